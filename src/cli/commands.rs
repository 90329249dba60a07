//! What each subcommand does: build its configuration, run it with a
//! progress bar, hand the result to the renderer, print.

use std::time::Instant;

use super::args::{Cli, Command, CompareArgs, ProfileArgs, ReplayArgs, SoakCommand};
use super::output::{print, progress_bar};
use crate::error::{Error, Result};
use crate::{compare, profile, render, replay};

/// Runs the parsed command.
pub(crate) fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Replay(args) => run_replay(&args),
        Command::Compare(args) => run_compare(&args),
        Command::Profile(args) => run_profile(&args),
        Command::Serve(args) => Ok(heaplab_staging::cli::serve(&args)?),
        Command::Soak(args) => run_soak(&args),
    }
}

fn json_error(e: serde_json::Error) -> Error {
    Error::Stdout(e.into())
}

fn run_replay(args: &ReplayArgs) -> Result<()> {
    let config = args.config();
    config.validate()?;
    if let Some(path) = &args.svg {
        // Fail before minutes of work, not after.
        render::check_writable(path)?;
    }
    let total = config.requests() * config.variants.len() as u64;
    let bar = progress_bar(total, "replaying");
    let started = Instant::now();
    let reports = replay::run(&config, &|n| bar.inc(n))?;
    bar.finish_and_clear();
    let wall = started.elapsed();
    if let Some(path) = &args.svg {
        render::write_svg(path, &config, &reports)?;
    }
    if args.json {
        return print(&render::json::replay(&config, &reports).map_err(json_error)?);
    }
    let mut out = render::replay_table(&config, &reports);
    out += "\n";
    for report in &reports {
        out += &render::memory_chart(&config, report, 64, 9);
        out += "\n";
    }
    out += &render::replay_footer(total, wall, args.svg.as_deref());
    print(&out)
}

fn run_soak(args: &SoakCommand) -> Result<()> {
    if let Some(path) = &args.svg {
        // Fail before minutes of soak, not after.
        render::check_writable(path)?;
    }
    let reports = heaplab_staging::cli::soak(&args.soak)?;
    if let Some(path) = &args.svg {
        render::write_soak_svg(path, &reports)?;
        eprintln!(
            "heaplab soak: heap and resident bytes written to {}",
            path.display()
        );
    }
    if args.json {
        let json = heaplab_staging::soak::json(&reports);
        return print(&(serde_json::to_string_pretty(&json).map_err(json_error)? + "\n"));
    }
    let text: String = reports.iter().map(|r| format!("{r}\n\n")).collect();
    print(&text)
}

fn run_compare(args: &CompareArgs) -> Result<()> {
    let config = args.config();
    let bar = progress_bar(config.variants.len() as u64, "comparing");
    let rows = compare::run(&config, &|v| {
        bar.set_message(format!("comparing {v}"));
        bar.inc(1);
    })?;
    bar.finish_and_clear();
    if args.json {
        return print(&render::json::compare(&rows).map_err(json_error)?);
    }
    print(&(render::compare_title(&config) + &render::compare_table(&rows)))
}

fn run_profile(args: &ProfileArgs) -> Result<()> {
    let config = args.config();
    if args.dhat() {
        let report = profile::run(&config)?;
        return print(&render::profile_report(&config, &report));
    }
    let report = profile::run_sampled(&config)?;
    print(&render::sampled_report(&config, &report))
}
