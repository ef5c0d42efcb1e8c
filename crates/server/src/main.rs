use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use relay_server::settings_file;
use tracing_subscriber::EnvFilter;

// Every request allocates a little (headers, routing, JSON): mimalloc does that cheaper than
// the system allocator under many threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // The settings file goes into the environment first, while this is the only thread: then
    // clap reads flags over variables over the file, and the rest of the server reads variables.
    let loaded = match settings_file::named_in(&args) {
        Some(path) => settings_file::load(&path),
        None => Ok(settings_file::Loaded::default()),
    };
    match loaded.and_then(|loaded| Ok((settings_file::apply(&loaded)?, loaded.path))) {
        Ok((from_file, Some(path))) => settings_file::remember(path, from_file),
        Ok((_, None)) => {}
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    }
    let filter =
        EnvFilter::try_from_env("RELAY_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // One JSON object a line for log collectors; text for people.
    match std::env::var("RELAY_LOG_FORMAT").as_deref() {
        Ok("json") => logs.json().init(),
        Ok("text") | Err(_) => logs.init(),
        Ok(other) => {
            eprintln!("error: RELAY_LOG_FORMAT (log_format) is `text` or `json`, not `{other}`");
            return ExitCode::FAILURE;
        }
    }
    let matches = relay_server::cli::Cli::command().get_matches_from(args);
    let mut cli = match relay_server::cli::Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    cli.flags = given_as_flags(&matches);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(relay_server::cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The arguments given on the command line (not by a variable or a default), the
/// subcommands' included.
fn given_as_flags(matches: &clap::ArgMatches) -> Vec<String> {
    let mut given = Vec::new();
    let mut current = Some(matches);
    while let Some(m) = current {
        for id in m.ids() {
            if m.value_source(id.as_str()) == Some(clap::parser::ValueSource::CommandLine) {
                given.push(id.as_str().to_owned());
            }
        }
        current = m.subcommand().map(|(_, sub)| sub);
    }
    given
}
