//! One file per subcommand: its clap arguments (the doc comments are the
//! help) and a `run` that turns them into a request, calls the application
//! core once, and renders the report. No file I/O here.

pub mod ack;
pub mod brief;
pub mod claim;
pub mod claims;
pub mod completions;
pub mod dashboard;
pub mod doctor;
pub mod guard;
pub mod heartbeat;
pub mod hook;
pub mod inbox;
pub mod init;
pub mod kpi;
pub mod log;
pub mod mcp;
pub mod merge_driver;
pub mod plan;
pub mod prime;
pub mod prune;
pub mod release;
pub mod renew;
pub mod send;
pub mod start;
pub mod status;
pub mod stop;
pub mod sync;
pub mod whoami;
