use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    qperf::run(qperf::cli::Cli::parse())
}
