//! `relay-load`: the reference deployment on this machine. 20,000 enrolled employees' devices
//! against one relay-server (embedded SQLite), or several over one PostgreSQL, with everything a
//! working day brings at its peak: live connections, syncs when told and every 15 minutes,
//! shares with tracked links, clicks on them, curators at work, sources polled, and one approval
//! that reaches everyone at 9:00. Run by `scripts/load.sh`; prints one report.
//!
//! Processes: this one seeds the database, starts the server instances (the release binary, so
//! their memory and CPU are theirs alone), runs the request mix as a goose load test, and
//! starts device workers (this binary again, `relay-load worker`): each holds a few thousand
//! devices' live connections from its own 127.0.0.x address, because one process here may hold
//! at most 20,000 open files.

mod attack;
mod feeds;
mod instances;
mod report;
mod run;
mod seed;
mod worker;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "relay-load", about = "The reference deployment, simulated")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Seed, start the servers and the devices, play the peak at each scale, report.
    Run(RunArgs),
    /// A device worker (started by `run`; reads its devices on stdin).
    #[command(hide = true)]
    Worker,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(clap::Args, Clone, Debug)]
pub struct RunArgs {
    #[arg(long, value_enum, default_value = "sqlite")]
    pub backend: Backend,
    /// Server instances from the start (more than one needs PostgreSQL).
    #[arg(long, default_value_t = 1)]
    pub instances: usize,
    /// Start one more instance a quarter into the last phase; a third of the live devices
    /// move to it (a load balancer adding a backend).
    #[arg(long)]
    pub add_instance: bool,
    /// Enrolled employees, one device each.
    #[arg(long, default_value_t = 20_000)]
    pub devices: usize,
    /// Devices that hold a live connection (the others sync every 15 minutes only). Default:
    /// 15,000 per instance, at most all of them.
    #[arg(long)]
    pub live: Option<usize>,
    /// Device worker processes.
    #[arg(long, default_value_t = 4)]
    pub workers: usize,
    /// Seconds each scale is played for.
    #[arg(long, default_value_t = 120)]
    pub phase_secs: u64,
    /// The multiples of the peak rate played, in order.
    #[arg(long, value_delimiter = ',', default_value = "1,10")]
    pub scales: Vec<f64>,
    /// The PostgreSQL server a fresh database is made on.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    pub database_url: String,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Runtime::new()?;
    match cli.command {
        Command::Run(args) => rt.block_on(run::run(args)),
        Command::Worker => rt.block_on(worker::main()),
    }
}
