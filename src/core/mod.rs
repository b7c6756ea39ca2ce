//! The core: plain data and pure rules, with no I/O of their own. Records
//! (`model`), time (`clock`), ids, settings, the error currency, text
//! helpers, and the rules every door shares.

pub mod clock;
pub mod config;
pub mod error;
pub mod ids;
pub mod model;
pub mod plan;
pub mod rules;
pub mod text;
