//! `nemo man [DIR]`: man pages from the one clap definition (clap_mangen).
//!
//! With DIR, one page per command (`nemo.1`, `nemo-export-resume.1`, …)
//! written into DIR; without, the top page on stdout (`nemo man | man -l -`).
//! Pages are written to a temp file and renamed, so a page is never half
//! there. Each page lists only pages that exist (clap's own `help`
//! subcommands are left out) and ends with EXAMPLES (from the `--help`
//! examples), EXIT STATUS and ENVIRONMENT.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::cli::Cli;
use crate::cli::topics::{ENVIRONMENT, EXIT_CODES, EXIT_CODES_JSON};
use crate::error::{Error, Result};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  nemo man | man -l -\n  nemo man ~/.local/share/man/man1   # then: man nemo-export"
)]
pub struct Args {
    /// Write one page per command into DIR (made if missing) [default: the top page on stdout]
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn run(args: &Args) -> Result<()> {
    let command = without_help_subcommands(Cli::command());
    match &args.dir {
        None => {
            let mut page = Vec::new();
            render(&command, &mut page)?;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&page)?;
            stdout.flush()?;
            Ok(())
        }
        Some(dir) => {
            if dir.exists() && !dir.is_dir() {
                return Err(Error::usage(format!(
                    "{} is a file, not a folder for the man pages",
                    dir.display()
                ))
                .with_hint(
                    "name a folder (made if missing), or leave it out: `nemo man | man -l -`",
                ));
            }
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
            let mut written = Vec::new();
            write_pages(&command, "nemo", dir, &mut written)?;
            let mut stdout = std::io::stdout().lock();
            for path in written {
                writeln!(stdout, "{}", path.display())?;
            }
            stdout.flush()?;
            Ok(())
        }
    }
}

/// The command tree without clap's `help` subcommands, which have no page
/// (nemo's own `nemo help` has one).
fn without_help_subcommands(command: clap::Command) -> clap::Command {
    command
        .disable_help_subcommand(true)
        .mut_subcommands(without_help_subcommands)
}

/// Writes `command`'s page as `<name>.1`, then its subcommands' pages.
fn write_pages(
    command: &clap::Command,
    name: &str,
    dir: &Path,
    written: &mut Vec<PathBuf>,
) -> Result<()> {
    let command = command.clone().name(name.to_string());
    let mut page = Vec::new();
    render(&command, &mut page)?;
    let path = dir.join(format!("{name}.1"));
    write_whole(&path, &page)?;
    written.push(path);
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, &format!("{name}-{}", sub.get_name()), dir, written)?;
    }
    Ok(())
}

/// clap_mangen's page without its EXTRA and VERSION sections, then ours:
/// the `--help` text after the options split into prose (added to the
/// DESCRIPTION) and EXAMPLES, then EXIT STATUS and ENVIRONMENT.
fn render(command: &clap::Command, out: &mut Vec<u8>) -> Result<()> {
    let after = command
        .get_after_long_help()
        .or_else(|| command.get_after_help())
        .map(ToString::to_string)
        .unwrap_or_default();
    let (prose, examples) = split_after_help(&after);
    let mut page = command
        .clone()
        .after_help(None::<&str>)
        .after_long_help(None::<&str>)
        .version(None::<&str>);
    if !prose.is_empty() {
        let about = command
            .get_long_about()
            .or_else(|| command.get_about())
            .map(ToString::to_string)
            .unwrap_or_default();
        page = page.long_about(format!("{about}\n\n{prose}"));
    }
    clap_mangen::Man::new(page)
        .source(format!("nemo {}", env!("CARGO_PKG_VERSION")))
        .render(out)
        .map_err(|e| Error::io("cannot render the man page", e))?;
    let mut roff = String::new();
    if !examples.is_empty() {
        roff.push_str(".SH EXAMPLES\n");
        verbatim(&mut roff, examples.iter().map(String::as_str));
    }
    roff.push_str(".SH \"EXIT STATUS\"\n");
    for (code, meaning) in EXIT_CODES {
        roff.push_str(&format!(".TP\n{}\n{}\n", text(code), text(meaning)));
    }
    roff.push_str(".PP\n");
    verbatim(&mut roff, EXIT_CODES_JSON.lines());
    roff.push_str(".SH ENVIRONMENT\n");
    verbatim(&mut roff, ENVIRONMENT.lines());
    out.extend_from_slice(roff.as_bytes());
    Ok(())
}

/// The text after a command's options: its prose paragraphs, and the lines
/// under `Examples:` (unindented).
fn split_after_help(after: &str) -> (String, Vec<String>) {
    let mut prose = Vec::new();
    let mut examples = Vec::new();
    for paragraph in after.split("\n\n") {
        match paragraph.strip_prefix("Examples:\n") {
            Some(lines) => examples.extend(lines.lines().map(|l| l.trim_start().to_string())),
            None if !paragraph.trim().is_empty() => prose.push(paragraph),
            None => {}
        }
    }
    (prose.join("\n\n"), examples)
}

/// Lines kept as they are (no filling), indented.
fn verbatim<'a>(roff: &mut String, lines: impl Iterator<Item = &'a str>) {
    roff.push_str(".RS\n.nf\n");
    for line in lines {
        roff.push_str(&text(line));
        roff.push('\n');
    }
    roff.push_str(".fi\n.RE\n");
}

/// `line` as roff text: backslashes, dashes and quotes escaped, and a
/// leading dot kept from being read as a request.
fn text(line: &str) -> String {
    let escaped = line
        .replace('\\', "\\\\")
        .replace('-', "\\-")
        .replace('\'', "\\*(Aq");
    if escaped.starts_with('.') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("1.tmp");
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::io(format!("cannot write {}", path.display()), e)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_are_split_from_the_prose() {
        let (prose, examples) =
            split_after_help("Some words\nmore.\n\nExamples:\n  nemo a\n  nemo b -x\n\nFaults: x");
        assert_eq!(prose, "Some words\nmore.\n\nFaults: x");
        assert_eq!(examples, ["nemo a", "nemo b -x"]);
    }

    #[test]
    fn roff_text_is_escaped() {
        assert_eq!(
            text(".hidden -x 'a' \\n"),
            "\\&.hidden \\-x \\*(Aqa\\*(Aq \\\\n"
        );
    }
}
