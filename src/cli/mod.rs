//! The command line, split by concern: [`args`] (clap's types), `values`
//! (reading each flag's value), `commands` (what each subcommand runs),
//! `output` (stdout and the progress bar) and `exit` (exit codes and error
//! reporting). `main.rs` only installs the global allocator and calls
//! [`main`].

pub mod args;
mod commands;
mod exit;
mod output;
mod values;

pub use args::Cli;
pub use exit::main;
