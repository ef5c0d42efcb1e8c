//! `relay`: the device engine from the command line, for power users and scripts.
//!
//! Human-readable output by default, `--json` for scripts. Exit codes: 0 done, 1 failed,
//! 2 bad usage, 3 not enrolled or signed out, 4 server unreachable, 5 not found, 6 refused
//! (invalid input, conflict).
//!
//! One module per group of subcommands: `session` (enrol, status, sign-out), `content` (sync,
//! feed, search, show), `shares` (share, queue, dispatch), `accounts`.

mod accounts;
mod content;
mod programme;
mod session;
mod shares;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use relay_client::{ClientError, Engine};
use serde::Serialize;

use accounts::AccountAction;
use content::Page;
use shares::QueueAction;

#[derive(Debug, Parser)]
#[command(
    name = "relay",
    version,
    about = "Relay on this device: read, search and share curated content"
)]
struct Cli {
    /// Where this device's data lives.
    #[arg(long, env = "RELAY_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Machine-readable output.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Enrol this device with a server, using the one-time code from your administrator.
    Enrol {
        server: String,
        code: String,
        #[arg(long, default_value = "relay command line")]
        device_name: String,
    },
    /// Bring the local copy up to date (then, with --watch, keep it so and send shares).
    Sync {
        #[arg(long)]
        watch: bool,
        /// Feed entries per request.
        #[arg(long, default_value_t = relay_client::sync::PAGE_SIZE)]
        page_size: u32,
    },
    /// The feed, newest first.
    Feed {
        /// Channel slug.
        #[arg(long)]
        channel: Option<String>,
        #[arg(long)]
        unread: bool,
        #[arg(long)]
        saved: bool,
        /// Entries per page (at most 500).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=500))]
        limit: u32,
        /// Which page (1 is the newest).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        page: u32,
    },
    /// Full-text search (accents and case do not matter).
    Search {
        #[arg(required = true)]
        words: Vec<String>,
        /// Results per page (at most 500).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=500))]
        limit: u32,
        /// Which page (1 is the best matches).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        page: u32,
    },
    /// One item in full (marks it read).
    Show { id: String },
    /// Queue a share; it goes out now, or at --at, or when back online. It carries your
    /// tracked link (its clicks count for you) unless --original-link.
    Share(shares::ShareOrder),
    /// The monthly prize draw.
    Draw {
        #[command(subcommand)]
        action: programme::DrawAction,
    },
    /// Your points this month, your rank, the leaderboard and the top ten.
    Programme {
        /// Join the leaderboard (under --pseudonym, or your name).
        #[arg(long, conflicts_with = "leave_board")]
        join_board: bool,
        #[arg(long, requires = "join_board")]
        pseudonym: Option<String>,
        /// Leave the leaderboard.
        #[arg(long)]
        leave_board: bool,
    },
    /// The outbox.
    Queue {
        #[command(subcommand)]
        action: Option<QueueAction>,
    },
    /// Send due shares now.
    Dispatch,
    /// Connected social accounts.
    #[command(subcommand)]
    Account(AccountAction),
    /// Where this device stands.
    Status,
    /// Forget this device's session (the outbox stays).
    SignOut,
}

fn main() -> ExitCode {
    relay_client::init_logging();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let json = cli.json;
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if json {
                let body = serde_json::json!({ "error": err.to_string() });
                println!("{body}");
            } else {
                eprintln!("relay: {err}");
            }
            ExitCode::from(exit_code(&err))
        }
    }
}

fn exit_code(err: &ClientError) -> u8 {
    match err {
        ClientError::NotEnrolled | ClientError::SignedOut(_) => 3,
        ClientError::Offline(_) | ClientError::RetryAfter(_) => 4,
        ClientError::NotFound(_) => 5,
        ClientError::Invalid(_)
        | ClientError::Conflict(_)
        | ClientError::Server(_)
        | ClientError::NotRelay(_) => 6,
        _ => 1,
    }
}

pub fn print<T: Serialize>(json: bool, value: &T, human: impl FnOnce(&T)) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
    } else {
        human(value);
    }
}

async fn run(cli: Cli) -> Result<(), ClientError> {
    let data_dir = cli
        .data_dir
        .clone()
        .unwrap_or_else(Engine::default_data_dir);
    let engine = Engine::open_with_keychain(&data_dir)?;
    let json = cli.json;
    match cli.command {
        Command::Enrol {
            server,
            code,
            device_name,
        } => session::enrol(&engine, json, &server, &code, &device_name).await,
        Command::Sync { watch, page_size } => content::sync(&engine, json, watch, page_size).await,
        Command::Feed {
            channel,
            unread,
            saved,
            limit,
            page,
        } => content::feed(&engine, json, channel, unread, saved, Page { limit, page }),
        Command::Search { words, limit, page } => {
            content::search(&engine, json, &words, Page { limit, page })
        }
        Command::Show { id } => content::show(&engine, json, &id),
        Command::Share(order) => shares::share(&engine, json, order).await,
        Command::Programme {
            join_board,
            pseudonym,
            leave_board,
        } => programme::programme(&engine, json, join_board, pseudonym, leave_board).await,
        Command::Draw { action } => {
            if programme::draw(&engine, json, action).await? {
                Ok(())
            } else {
                Err(ClientError::Invalid("the draw does not verify".into()))
            }
        }
        Command::Queue { action } => shares::queue(&engine, json, action),
        Command::Dispatch => shares::dispatch(&engine, json).await,
        Command::Account(action) => accounts::run(&engine, json, action).await,
        Command::Status => session::status(&engine, json),
        Command::SignOut => session::sign_out(&engine, json),
    }
}
