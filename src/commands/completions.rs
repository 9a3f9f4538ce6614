//! `nemo completions SHELL`: a completion script on stdout. The values the
//! dynamic completer offers as you type (session and render ids) are
//! [`crate::cli::complete`]'s, beside the arguments that offer them.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::Result;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Completions that also offer session and render ids from your config, --format and --quality
values (the script asks nemo as you type):
  bash:  echo 'source <(NEMO_COMPLETE=bash nemo)' >> ~/.bashrc
  zsh:   echo 'source <(NEMO_COMPLETE=zsh nemo)' >> ~/.zshrc
  fish:  echo 'NEMO_COMPLETE=fish nemo | source' >> ~/.config/fish/config.fish

Examples:
  nemo completions bash > ~/.local/share/bash-completion/completions/nemo
  nemo completions zsh > ~/.zfunc/_nemo")]
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
