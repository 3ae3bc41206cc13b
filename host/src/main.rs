//! The `strategy-host` binary: parse the command line, run, print the error chain once.

use std::process::ExitCode;

fn main() -> ExitCode {
    match strategy_host::cli::run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
