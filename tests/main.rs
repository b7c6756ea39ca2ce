//! One integration test binary (one link step); modules inside.
#![allow(clippy::unwrap_used)]
mod support;

mod claims;
mod hub;
mod sample_hub;
mod sessions;
