//! One integration test binary (one link step); modules inside.
#![allow(clippy::unwrap_used)]
mod support;

mod brief;
mod claims;
mod hub;
mod messages;
mod sample_hub;
mod sessions;
