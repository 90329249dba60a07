//! `heaplab-staging serve|soak`: the staging service and soak on their own,
//! for scripts (the `heaplab` CLI runs the same code).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use heaplab_staging::cli::{self, ServeArgs, SoakArgs};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =
    heapmeter::CountingAlloc::new(std::alloc::System);

#[derive(Parser)]
#[command(
    version,
    about = "The fraud check as a service, and a soak that catches its leak"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve one variant: POST /payments, GET /metrics, GET /healthz
    Serve(ServeArgs),
    /// Drive the service open-loop at a fixed rate and judge its heap
    Soak(SoakArgs),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Serve(args) => cli::serve(&args),
        Command::Soak(args) => cli::soak(&args).map(|reports| {
            for report in reports {
                println!("{report}\n");
            }
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
