//! One integration test binary (one link step); modules inside.
#![allow(clippy::unwrap_used)]
mod support;

mod agents;
mod authority;

mod bad_input;
mod brief;
mod claims;
mod clock;
mod dashboard;
mod doctor;
mod everyday;
mod guard;
mod hooks;
mod hub;
mod identity;
mod install_agents;
mod mcp;
mod merge;
mod messages;
mod plan;
mod prime;
mod props;
mod pulse;
mod sample_hub;
mod security;
mod sessions;
mod stress;
mod sync;
mod sync_hostile;
mod sync_scale;
