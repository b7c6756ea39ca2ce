//! `coord completions SHELL` and `coord man`: what shells and `man` need,
//! generated from the same clap definition as the parser.

use clap::CommandFactory;

use crate::cli::ui::Ui;
use crate::cli::Cli;
use crate::core::error::{failure, Result};

/// Print a completion script: `coord completions bash > /etc/bash_completion.d/coord`
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The shell to complete for
    pub shell: clap_complete::Shell,
}

/// Print the man page (roff): `coord man > ~/.local/share/man/man1/coord.1`
#[derive(clap::Args, Debug)]
pub struct ManArgs {}

pub fn run(ui: &Ui, args: &Args) -> Result<()> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "coord", &mut out);
    ui.out(&String::from_utf8_lossy(&out))
}

pub fn run_man(ui: &Ui, _args: &ManArgs) -> Result<()> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| failure(format!("cannot render the man page: {e}")))?;
    ui.out(&String::from_utf8_lossy(&out))
}
