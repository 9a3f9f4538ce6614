//! `nemo completions SHELL`: a completion script on stdout.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::Result;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  nemo completions bash > ~/.local/share/bash-completion/completions/nemo\n  nemo completions zsh > ~/.zfunc/_nemo"
)]
pub struct Args {
    /// The shell
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: &Args) -> Result<()> {
    let mut command = Cli::command();
    let mut buffer = Vec::new();
    clap_complete::generate(args.shell, &mut command, "nemo", &mut buffer);
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&buffer)?;
    stdout.flush()?;
    Ok(())
}
