//! The `coord` binary: parse, run, exit with the documented code.

fn main() {
    std::process::exit(coord::run(std::env::args_os()));
}
