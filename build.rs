//! Link the `coord` binary at a fixed address on Linux.
//!
//! A position-independent executable is relocated by the loader at every
//! start: for coord that is a few hundred pages written before `main`, about
//! 0.6 ms of every command and hook call (measured in docs/BENCHMARKS.md,
//! "session-start"). Linked at a fixed address, those relocations are done
//! once, by the linker. coord's own code then loads at the same address each
//! time; the C library, the stack and the heap are still placed at random.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
