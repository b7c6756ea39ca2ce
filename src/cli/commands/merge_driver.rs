//! `coord merge-driver BASE OURS THEIRS PATH`: what git runs to merge a hub
//! file (`merge.coord.driver`, registered by `coord init`).

use std::path::PathBuf;

use crate::cli::ui::Ui;
use crate::core::error::Result;
use crate::store::merge::merge_files;

/// Merge two versions of a hub file record by record (git runs this; see `coord init`)
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The common ancestor's version (%O)
    pub base: PathBuf,
    /// Our version, replaced by the result (%A)
    pub ours: PathBuf,
    /// Their version (%B)
    pub theirs: PathBuf,
    /// The file's path in the repository (%P)
    pub path: String,
}

pub fn run(ui: &Ui, args: &Args) -> Result<()> {
    let now = crate::cli::env::clock()?.now();
    merge_files(&args.base, &args.ours, &args.theirs, &args.path, now)?;
    ui.status(&format!("merged {} record by record", args.path));
    Ok(())
}
