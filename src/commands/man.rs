//! `nemo man [DIR]`: man pages from the one clap definition (clap_mangen).
//!
//! With DIR, one page per command (`nemo.1`, `nemo-export-resume.1`, …)
//! written into DIR; without, the top page on stdout (`nemo man | man -l -`).
//! Pages are written to a temp file and renamed, so a page is never half
//! there.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::cli::Cli;
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
    let command = Cli::command();
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

fn render(command: &clap::Command, out: &mut Vec<u8>) -> Result<()> {
    clap_mangen::Man::new(command.clone())
        .render(out)
        .map_err(|e| Error::io("cannot render the man page", e))
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
