//! Exit codes and error reporting: 0 on success, 1 on a failed run, 2 on
//! bad usage; every error one line on stderr, prefixed `error:`.

use std::process::ExitCode;

use clap::Parser;

use super::args::Cli;
use super::commands;
use crate::error::Error;

/// Exit code of bad usage (clap's convention).
const USAGE: u8 = 2;

/// Parses the arguments, runs the command, prints errors as one line
/// prefixed `error:`; exit code 0 on success, 1 on a failed run, 2 on bad
/// usage.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // NOTE: a reader that closes the pipe (`| head`) has what it wanted.
        Err(Error::Stdout(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// clap's own output for help and version; its errors reduced to their
/// first paragraph on one line (the usage and tips that follow are noise
/// next to the message).
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if let ErrorKind::DisplayHelp
    | ErrorKind::DisplayVersion
    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand = e.kind()
    {
        let _ = e.print();
        return if e.use_stderr() {
            ExitCode::from(USAGE)
        } else {
            ExitCode::SUCCESS
        };
    }
    eprintln!("{}", one_line(&e.render().to_string()));
    ExitCode::from(USAGE)
}

/// The first paragraph of clap's message on one line, prefixed `error:`.
fn one_line(text: &str) -> String {
    let line = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    if line.starts_with("error:") {
        line
    } else {
        format!("error: {line}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_keeps_its_first_paragraph_on_one_line() {
        let text = "error: invalid value\n  for --pods\n\nUsage: heaplab replay\n";
        assert_eq!(one_line(text), "error: invalid value for --pods");
    }

    #[test]
    fn a_message_without_the_prefix_gets_it() {
        assert_eq!(one_line("unexpected\n"), "error: unexpected");
    }
}
