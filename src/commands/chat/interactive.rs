//! Interactive `nemo chat`: a prompt with line editing and history
//! (rustyline), whose input is routed first (`../shared/spec/cli.md` "nemo
//! chat"): export, credits, state and upload do what the command of that
//! name does, through the same flows (a command never calls another);
//! everything else goes to the agent. `/help`, `/quit`, Ctrl-D. Ctrl-C at
//! the prompt clears the line; during a reply it cancels the reply, not the
//! program. A signal at the idle prompt (SIGINT from elsewhere, SIGTERM,
//! SIGHUP), or SIGTERM/SIGHUP during a reply, ends the program with the
//! terminal restored.

use rustyline::config::{Behavior, Config};
use rustyline::error::ReadlineError;

use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::flow::turn::sink::{StdoutLine, sink_for};
use crate::flow::turn::{Limits, turn};
use crate::flow::{credits, export, state, upload};
use crate::interrupt::Interrupt;

/// Where one line of input goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Nothing typed.
    Empty,
    Help,
    Quit,
    /// `nemo export`.
    Export,
    /// `nemo credits`.
    Credits,
    /// `nemo state`.
    State,
    /// `nemo upload PATH…`.
    Upload(Vec<String>),
    /// "upload" without a path.
    UploadWithoutPath,
    /// An unknown `/command`.
    UnknownSlash(String),
    /// A message for the agent.
    Agent(String),
}

impl Route {
    /// The command line this route runs, as `nemo` would get it.
    pub fn argv(&self) -> Option<Vec<String>> {
        let words: Vec<String> = match self {
            Route::Export => vec!["export".into()],
            Route::Credits => vec!["credits".into()],
            Route::State => vec!["state".into()],
            Route::Upload(paths) => std::iter::once("upload".to_string())
                .chain(paths.iter().cloned())
                .collect(),
            _ => return None,
        };
        Some(words)
    }
}

/// Polite words before a command that do not change it.
const LEAD_INS: &[&str] = &["please", "pls", "now", "ok", "okay", "then", "and"];

/// Routes one line of input.
pub fn route(input: &str) -> Route {
    let line = input.trim();
    if line.is_empty() {
        return Route::Empty;
    }
    if let Some(slash) = line.strip_prefix('/') {
        return match slash.trim().to_lowercase().as_str() {
            "help" | "h" | "?" => Route::Help,
            "quit" | "q" | "exit" => Route::Quit,
            other => Route::UnknownSlash(other.to_string()),
        };
    }
    let lower = line.to_lowercase();
    // English keywords count as the command's first word (after a polite
    // lead-in), or anywhere in a short line; longer sentences are
    // instructions for the agent ("make the export look cinematic").
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'))
        .filter(|w| !w.is_empty())
        .collect();
    let first = words
        .iter()
        .find(|w| !LEAD_INS.contains(w))
        .copied()
        .unwrap_or("");
    let short = words.len() <= 4;
    let keyword =
        |keys: &[&str]| keys.contains(&first) || (short && words.iter().any(|w| keys.contains(w)));
    // Chinese keywords: at the start (after 请/帮我), or anywhere in a short line.
    let zh = lower
        .trim_start_matches('请')
        .trim_start_matches("帮我")
        .trim_start_matches('请');
    let zh_short = zh.chars().count() <= 12;
    let zh_keyword = |keys: &[&str]| {
        keys.iter()
            .any(|k| zh.starts_with(k) || (zh_short && zh.contains(k)))
    };

    if first == "upload" || zh.starts_with("上传") {
        let rest = if first == "upload" {
            let at = lower.find("upload").map_or(0, |i| i + "upload".len());
            &line[at..]
        } else {
            let at = line.find("上传").map_or(0, |i| i + "上传".len());
            &line[at..]
        };
        let paths = split_words(rest.trim());
        return if paths.is_empty() {
            Route::UploadWithoutPath
        } else {
            Route::Upload(paths)
        };
    }
    if keyword(&["export", "download"])
        || lower.contains("send me the video")
        || zh_keyword(&["导出", "下载"])
    {
        return Route::Export;
    }
    if keyword(&["credits", "credit", "balance"]) || zh_keyword(&["积分", "余额"]) {
        return Route::Credits;
    }
    if keyword(&["status"])
        || lower.contains("show tracks")
        || lower.contains("show the tracks")
        || lower.contains("show me the tracks")
        || zh_keyword(&["状态"])
    {
        return Route::State;
    }
    Route::Agent(line.to_string())
}

/// Splits on whitespace, keeping 'single' or "double" quoted words whole.
fn split_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut has_word = false;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => current.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                has_word = true;
            }
            None if c.is_whitespace() => {
                if has_word || !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                    has_word = false;
                }
            }
            None => current.push(c),
        }
    }
    if has_word || !current.is_empty() {
        words.push(current);
    }
    words
}

const HELP: &str = "\
Type a message for the agent, e.g. \"generate a 10-second video of a panda\".
These run a command instead:
  export, download, send me the video, 导出    nemo export
  credits, balance, 积分, 余额                 nemo credits
  status, show tracks, 状态                    nemo state
  upload PATH…, 上传 PATH…                     nemo upload PATH…
/help   this help
/quit   leave (also Ctrl-D)
Ctrl-C  cancel the reply in progress (or clear the line)";

/// Runs a routed command as `nemo <argv>` would with its defaults (and
/// the paths for upload), through the flow that command runs, and shows
/// its result as the command does.
async fn run_command(route: &Route, ctx: &Context) -> Result<()> {
    match route {
        Route::Export => {
            let exported = export::start(ctx, &export::Start::default()).await?;
            ctx.printer.report(&exported)
        }
        Route::Credits => ctx.printer.report(&credits::credits(ctx).await?),
        Route::State => {
            let found = state::fetch(ctx).await?;
            ctx.printer.report(&state::timeline(ctx, found))
        }
        Route::Upload(paths) => {
            // Words that would be flags on the command line are refused as
            // they would be there.
            if let Some(flag) = paths.iter().find(|p| p.len() > 1 && p.starts_with('-')) {
                return Err(Error::usage(format!(
                    "upload {}: unexpected argument '{flag}' found",
                    paths.join(" ")
                )));
            }
            let items: Vec<std::ffi::OsString> =
                paths.iter().map(std::ffi::OsString::from).collect();
            let uploaded = upload::upload(ctx, &items, |files| {
                ctx.printer.human(&upload::Files(files))
            })
            .await?;
            ctx.printer.report(&uploaded)
        }
        _ => Ok(()),
    }
}

/// Reads one line on a blocking thread (rustyline owns the terminal while
/// it reads, so Ctrl-C there is a key, not a signal).
async fn read_line(
    editor: rustyline::DefaultEditor,
    prompt: &'static str,
) -> Result<(
    rustyline::DefaultEditor,
    std::result::Result<String, ReadlineError>,
)> {
    tokio::task::spawn_blocking(move || {
        let mut editor = editor;
        let line = editor.readline(prompt);
        (editor, line)
    })
    .await
    .map_err(|e| Error::new(Kind::Io, format!("the prompt failed: {e}")))
}

/// The prompt loop.
pub async fn run(ctx: &Context, limits: &Limits) -> Result<()> {
    let config = Config::builder()
        .behavior(Behavior::PreferTerm)
        .auto_add_history(false)
        .max_history_size(1000)
        .map_err(|e| Error::new(Kind::Io, format!("cannot set up the prompt: {e}")))?
        .build();
    let mut editor = rustyline::DefaultEditor::with_config(config).map_err(|e| {
        Error::new(
            Kind::Io,
            format!("cannot open the terminal for the prompt: {e}"),
        )
    })?;
    // The Ctrl-C key clears the line; rustyline would report it as it
    // reports a SIGINT sent from elsewhere, which must end the program.
    editor.bind_sequence(
        rustyline::KeyEvent::ctrl('C'),
        rustyline::Cmd::Kill(rustyline::Movement::WholeBuffer),
    );
    // A signal lands on whichever thread the system picks, rarely the one
    // blocked reading the terminal; rustyline watches its signal pipe (and
    // so notices a SIGINT from elsewhere at once) only while an external
    // printer exists. None is used; it is kept for that.
    let _watch_signals = editor.create_external_printer().ok();
    let mut session = ctx.ensure_session().await?;
    ctx.printer.status(format!(
        "Chatting in session {session}. Type /help for commands, Ctrl-D to leave."
    ));
    let line_state = StdoutLine::default();
    // The prompt puts the terminal in raw mode on a thread of its own; a
    // signal that ends the program meanwhile must leave it as it was.
    let terminal = crate::terminal::Saved::now();
    let mut interrupt = Interrupt::new();
    loop {
        let (back, line) = tokio::select! {
            read = read_line(editor, "nemo› ") => read?,
            () = interrupt.recv() => {
                terminal.restore();
                return Err(Error::interrupted());
            }
        };
        editor = back;
        let line = match line {
            Ok(line) => line,
            // Only a SIGINT from elsewhere gets here (the key is bound
            // above); readline has put the terminal back by now.
            Err(ReadlineError::Interrupted) => {
                terminal.restore();
                return Err(Error::interrupted());
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                return Err(Error::new(Kind::Io, format!("cannot read the prompt: {e}")));
            }
        };
        let routed = route(&line);
        if !matches!(routed, Route::Empty) {
            let _ = editor.add_history_entry(line.trim());
        }
        let work = async {
            match &routed {
                Route::Empty => Ok(()),
                Route::Help => ctx.printer.out(ctx.printer.suggest(HELP)),
                Route::Quit => Ok(()),
                Route::UnknownSlash(name) => {
                    Err(Error::new(Kind::Usage, format!("unknown command /{name}"))
                        .with_hint("type /help for the commands"))
                }
                Route::UploadWithoutPath => {
                    Err(Error::new(Kind::Usage, "upload needs a file or URL")
                        .with_hint("upload ./clip.mp4"))
                }
                Route::Agent(message) => {
                    let sink = sink_for(&ctx.printer, &line_state);
                    turn(ctx, &mut session, message, limits, sink)
                        .await
                        .map(|_| ())
                }
                other => match other.argv() {
                    Some(argv) => {
                        ctx.printer
                            .debug(format!("routed to `nemo {}`", argv.join(" ")));
                        run_command(other, ctx).await
                    }
                    None => Ok(()),
                },
            }
        };
        let result = interrupt.run(work, None).await;
        line_state.end(&ctx.printer);
        match result {
            Ok(()) => {}
            // SIGTERM and SIGHUP end the program; Ctrl-C only the reply.
            Err(err) if err.is(Kind::Interrupted) && crate::interrupt::exit_code() != 130 => {
                return Err(err);
            }
            Err(err) if err.is(Kind::Interrupted) => ctx.printer.status(
                "Cancelled. The agent may still finish what it started; `status` shows the timeline.",
            ),
            Err(err) if err.is(Kind::BrokenPipe) => return Err(err),
            Err(err) => ctx.printer.error(&err),
        }
        if routed == Route::Quit {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(text: &str) -> Route {
        Route::Agent(text.to_string())
    }

    #[test]
    fn export_keywords() {
        for input in [
            "export",
            "Export!",
            "please export",
            "download it",
            "download the video please",
            "can you send me the video when it's done",
            "导出",
            "请导出视频",
            "帮我导出",
            "下载",
        ] {
            assert_eq!(route(input), Route::Export, "{input}");
        }
        assert_eq!(
            route("make the intro look more cinematic before we export it later on"),
            agent("make the intro look more cinematic before we export it later on")
        );
    }

    #[test]
    fn credits_state_and_upload_keywords() {
        for input in [
            "credits",
            "my balance",
            "how many credits?",
            "积分",
            "余额多少",
        ] {
            assert_eq!(route(input), Route::Credits, "{input}");
        }
        for input in ["status", "show tracks", "please show me the tracks", "状态"] {
            assert_eq!(route(input), Route::State, "{input}");
        }
        assert_eq!(
            route("upload ./a.mp4 'my clip.mov' https://x.test/v.mp4"),
            Route::Upload(vec![
                "./a.mp4".into(),
                "my clip.mov".into(),
                "https://x.test/v.mp4".into()
            ])
        );
        assert_eq!(
            route("上传 /tmp/片段.mp4"),
            Route::Upload(vec!["/tmp/片段.mp4".into()])
        );
        assert_eq!(route("upload"), Route::UploadWithoutPath);
    }

    #[test]
    fn slash_commands_and_the_rest() {
        assert_eq!(route("  "), Route::Empty);
        assert_eq!(route("/help"), Route::Help);
        assert_eq!(route("/quit"), Route::Quit);
        assert_eq!(route("/exit"), Route::Quit);
        assert_eq!(route("/frob"), Route::UnknownSlash("frob".into()));
        assert_eq!(
            route("generate a video of a panda"),
            agent("generate a video of a panda")
        );
        assert_eq!(
            route("add a title \"Paradise Found\""),
            agent("add a title \"Paradise Found\"")
        );
        assert_eq!(route("生成一个熊猫视频"), agent("生成一个熊猫视频"));
    }

    #[test]
    fn routes_run_the_commands_of_the_cli() {
        assert_eq!(Route::Export.argv(), Some(vec!["export".to_string()]));
        assert_eq!(
            Route::Upload(vec!["a b.mp4".into()]).argv(),
            Some(vec!["upload".to_string(), "a b.mp4".to_string()])
        );
        // The arguments a route runs with are those of `nemo <argv>`.
        use crate::cli::{Cli, Command};
        use clap::Parser;
        let parse = |words: &[&str]| {
            let argv = std::iter::once("nemo").chain(words.iter().copied());
            Cli::try_parse_from(argv).unwrap().command
        };
        // What the prompt runs: export's defaults, no credits gate, the
        // timeline rather than the draft.
        match parse(&["export"]) {
            Command::Export(args) => {
                let ours = export::Start::default();
                assert!(args.command.is_none());
                assert_eq!(args.start.output.as_deref(), ours.output);
                assert_eq!(args.start.no_wait, ours.no_wait);
                assert_eq!(args.start.force, ours.force);
                assert_eq!(
                    format!("{:?}", args.start.render),
                    format!("{:?}", ours.render)
                );
            }
            other => panic!("{other:?}"),
        }
        match parse(&["credits"]) {
            Command::Credits(args) => assert_eq!(args.min, None),
            other => panic!("{other:?}"),
        }
        match parse(&["state"]) {
            Command::State(args) => assert!(!args.draft),
            other => panic!("{other:?}"),
        }
    }
}
