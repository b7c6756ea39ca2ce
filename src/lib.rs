//! coord: many agent sessions on one repository, coordinated through a
//! folder of plain files.
//!
//! - [`core`]: records, time, ids, settings, errors, text, and the pure rules;
//! - [`store`]: the only code that touches hub files (lock, transaction, logs);
//! - [`app`]: one function per use case, returning typed reports;
//! - [`cli`]: the command line, the only layer that prints or reads the
//!   environment. `run` is the whole program; `main.rs` only maps its result
//!   to an exit code, so tests and examples can use the same code.

pub mod app;
pub mod cli;
pub mod core;
pub mod store;

pub use cli::run;
