//! `nemo chat`: send a message to the agent and stream its reply
//! (`../shared/spec/cli.md` "nemo chat"), one-shot or interactively.
//!
//! This file owns the command line, reading the message and the limits;
//! the turn itself (sending once, streaming, the watch after a drop) is
//! `crate::flow::turn`, which streams into the sink chosen here. It must
//! not print replies itself.

mod interactive;

use std::io::Read;
use std::time::Duration;

use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::flow::turn::sink::{StdoutLine, sink_for};
use crate::flow::turn::{Limits, turn};
use crate::interrupt::Interrupt;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  nemo chat \"generate a 10-second video of a panda walking through a bamboo forest\"\n  nemo chat 'add a title \"Paradise Found\"'\n  echo \"make the music quieter\" | nemo chat -\n  nemo chat --json \"hello\" | jq -r 'select(.type == \"done\").text'\n  nemo chat            # interactive, on a terminal"
)]
pub struct Args {
    /// The message (several words are joined); `-` reads it from stdin (at
    /// most 64 MiB, else exit 7); none on a terminal opens an interactive
    /// prompt
    #[arg(value_name = "MESSAGE")]
    pub message: Vec<String>,

    /// Give up on a reply that has not ended after SECS, watching a dropped
    /// stream included (exit 8); 1 to 86400 (24 h)
    #[arg(long, value_name = "SECS", default_value_t = crate::flow::turn::DEFAULT_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(1..=MAX_SECS))]
    pub timeout: u64,

    /// Give up when SECS pass with nothing but keep-alives (exit 8); 1 to
    /// 86400 (24 h)
    #[arg(long, value_name = "SECS", default_value_t = crate::flow::turn::DEFAULT_IDLE_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(1..=MAX_SECS))]
    pub idle_timeout: u64,
}

/// The largest `--timeout`/`--idle-timeout`: a day. Checked before anything
/// is sent, so no limit can overflow a clock afterwards.
pub(crate) const MAX_SECS: u64 = 86_400;

/// The time limits of a reply from the command line.
fn limits(args: &Args, scale: f64) -> Limits {
    Limits::with(
        Duration::from_secs(args.timeout),
        Duration::from_secs(args.idle_timeout),
        scale,
    )
}

pub async fn run(args: &Args, ctx: &Context) -> Result<()> {
    let limits = limits(args, ctx.settings.chat_time_scale);
    match message_of(args, ctx)? {
        Some(message) => {
            let mut session = ctx.ensure_session().await?;
            let line = StdoutLine::default();
            let result = Interrupt::new()
                .run(
                    turn(ctx, &mut session, &message, &limits, sink_for(&ctx.printer, &line)),
                    Some("the agent may still finish what it started; `nemo state` shows the timeline"),
                )
                .await;
            line.end(&ctx.printer);
            result.map(|_| ())
        }
        None if ctx.printer.can_prompt() => interactive::run(ctx, &limits).await,
        None if ctx.printer.stdin_is_terminal() => Err(Error::usage(
            "no message, and --no-input (or CI) rules out an interactive chat",
        )
        .with_hint("pass the message: `nemo chat \"…\"`, or pipe it in: `echo \"…\" | nemo chat`")),
        None => Err(Error::new(
            Kind::Usage,
            "no message, and stdin is not a terminal for an interactive chat",
        )
        .with_hint(
            "pass the message: `nemo chat \"…\"`, or pipe it in: `echo \"…\" | nemo chat -`",
        )),
    }
}

/// The most a message read from stdin may be: far above any prompt, and
/// small enough that holding it (about twice: the text and the request
/// body) is harmless. Reading stops past it: an endless stdin is refused,
/// not held (exit 7, like a file over the upload limit).
pub(crate) const MAX_STDIN_MESSAGE: usize = 64 * 1024 * 1024;

/// The message from the arguments or stdin; `None` for interactive.
fn message_of(args: &Args, ctx: &Context) -> Result<Option<String>> {
    // No message and a stdin that is not a terminal: the message is piped in.
    let piped = args.message.is_empty() && !ctx.printer.stdin_is_terminal();
    if args.message.is_empty() && !piped {
        return Ok(None);
    }
    let mut text = if piped || (args.message.len() == 1 && args.message[0] == "-") {
        let stdin = std::io::stdin();
        if ctx.printer.stdin_is_terminal() {
            if !ctx.printer.can_prompt() {
                return Err(Error::usage(
                    "`nemo chat -` would wait for a message typed on the terminal, and --no-input (or CI) rules that out",
                )
                .with_hint("pipe the message in: `echo \"…\" | nemo chat`"));
            }
            ctx.printer
                .status("Type the message, then press Enter and Ctrl-D:");
        }
        let text = read_message(stdin.lock(), MAX_STDIN_MESSAGE)?;
        // Nothing at all piped in (`< /dev/null`): no message was given.
        if text.is_empty() && piped {
            return Ok(None);
        }
        if text.trim().is_empty() {
            return Err(Error::new(Kind::Usage, "the message is empty")
                .with_hint("pipe one in: `echo \"hello\" | nemo chat -`"));
        }
        text
    } else {
        args.message.join(" ")
    };
    trim_in_place(&mut text);
    if text.is_empty() {
        return Err(Error::usage("the message is empty"));
    }
    Ok(Some(text))
}

/// Reads a message of at most `limit` bytes from `input` into one buffer
/// (never more than `limit + 1` bytes are read), checked as UTF-8 in place.
fn read_message(input: impl Read, limit: usize) -> Result<String> {
    let mut bytes = Vec::new();
    input
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("cannot read the message from stdin", e))?;
    if bytes.len() > limit {
        return Err(Error::new(
            Kind::BadInput,
            format!(
                "the message on stdin is over {} MiB, the most nemo sends",
                limit / (1024 * 1024)
            ),
        )
        .with_hint("send a shorter message; media goes through `nemo upload`"));
    }
    String::from_utf8(bytes).map_err(|e| {
        Error::usage(format!(
            "the message on stdin is not valid UTF-8 (at byte {})",
            e.utf8_error().valid_up_to()
        ))
        .with_hint("convert it first, e.g. `iconv -t UTF-8 FILE | nemo chat -`")
    })
}

/// Trims leading and trailing whitespace without a second copy.
fn trim_in_place(text: &mut String) {
    let end = text.trim_end().len();
    text.truncate(end);
    let start = text.len() - text.trim_start().len();
    text.drain(..start);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_read_up_to_the_limit_and_no_further() {
        assert_eq!(read_message(&b"hello"[..], 5).unwrap(), "hello");
        let err = read_message(&b"hello!"[..], 5).unwrap_err();
        assert!(err.is(Kind::BadInput), "{err}");
        // An endless input is refused after limit + 1 bytes.
        let err = read_message(std::io::repeat(b'a'), 1024).unwrap_err();
        assert!(err.is(Kind::BadInput), "{err}");
        let err = read_message(&b"ok \xff"[..], 64).unwrap_err();
        assert!(
            err.is(Kind::Usage) && err.message().contains("stdin"),
            "{err}"
        );
    }

    #[test]
    fn trimming_in_place() {
        for (input, want) in [
            (" \n hi there \t\n", "hi there"),
            ("x", "x"),
            ("  ", ""),
            ("", ""),
        ] {
            let mut text = input.to_string();
            trim_in_place(&mut text);
            assert_eq!(text, want);
        }
    }
}
