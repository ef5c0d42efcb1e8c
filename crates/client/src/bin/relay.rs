//! `relay`: the device engine from the command line, for power users and scripts.
//!
//! Human-readable output by default, `--json` for scripts. Exit codes: 0 done, 1 failed,
//! 2 bad usage, 3 not enrolled or signed out, 4 server unreachable, 5 not found, 6 refused
//! (invalid input, conflict).

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use relay_client::social::{account_secret, Provider};
use relay_client::store::{FeedItem, FeedQuery, NewShare, Share, ShareState};
use relay_client::{ClientError, Engine};
use relay_protocol::Network;
use serde::Serialize;

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
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Full-text search (accents and case do not matter).
    Search {
        #[arg(required = true)]
        words: Vec<String>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// One item in full (marks it read).
    Show { id: String },
    /// Queue a share; it goes out now, or at --at, or when back online.
    Share {
        id: String,
        #[arg(long)]
        network: Network,
        /// Account id (the first connected account of the network when absent).
        #[arg(long)]
        account: Option<String>,
        /// Your text (the curators' suggestion when absent).
        #[arg(long)]
        text: Option<String>,
        /// RFC 3339 time to send at.
        #[arg(long)]
        at: Option<DateTime<Utc>>,
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

#[derive(Debug, Subcommand)]
enum QueueAction {
    /// List shares (all, or one state).
    List {
        #[arg(long)]
        state: Option<String>,
    },
    /// Cancel a share that has not gone out.
    Cancel { id: String },
    /// Queue a failed share again.
    Retry { id: String },
}

#[derive(Debug, Subcommand)]
enum AccountAction {
    List,
    /// Connect a Bluesky account (the app password is read from standard input).
    AddBluesky {
        /// Handle (or e-mail address) of the account.
        #[arg(long)]
        handle: String,
        /// The hosting service where the account signs in.
        #[arg(long, default_value = relay_client::social::bluesky::DEFAULT_SERVICE)]
        service: String,
    },
    /// Disconnect an account: revoke its tokens where the network allows and forget them.
    Remove {
        id: String,
    },
    /// Connect an account of the HTTP test network (token read from standard input).
    AddTest {
        #[arg(long)]
        network: Network,
        #[arg(long)]
        url: String,
        #[arg(long)]
        handle: String,
    },
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
        ClientError::Invalid(_) | ClientError::Conflict(_) | ClientError::Server(_) => 6,
        _ => 1,
    }
}

fn print<T: Serialize>(json: bool, value: &T, human: impl FnOnce(&T)) {
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
        } => {
            let status = engine.enrol(&server, &code, &device_name).await?;
            print(json, &status, |s| {
                println!(
                    "Enrolled as {} ({}).",
                    s.person.as_deref().unwrap_or("?"),
                    s.organisation.as_deref().unwrap_or("?")
                );
                println!("Next: relay sync");
            });
        }
        Command::Sync { watch, page_size } => {
            let engine = engine.clone().with_page_size(page_size);
            let bar = (!json && std::io::stderr().is_terminal()).then(|| {
                let bar = ProgressBar::new(0);
                bar.set_style(
                    ProgressStyle::with_template("{spinner} syncing {bar:30} {pos}/{len} items")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar
            });
            let report = engine
                .sync(&mut |p| {
                    if let Some(bar) = &bar {
                        bar.set_length(p.total.unwrap_or(p.done));
                        bar.set_position(p.done);
                    }
                })
                .await?;
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            let dispatch = engine.dispatch().await?;
            print(json, &(&report, &dispatch), |(r, d)| {
                println!(
                    "Synced: {} new or updated, {} removed{}.",
                    r.upserted,
                    r.deleted,
                    if r.reset { " (cache rebuilt)" } else { "" }
                );
                if r.cancelled_shares > 0 {
                    println!(
                        "{} queued share(s) cancelled: their content was withdrawn.",
                        r.cancelled_shares
                    );
                }
                if d.posted > 0 {
                    println!("{} share(s) posted.", d.posted);
                }
            });
            if watch {
                engine
                    .watch(&mut |r| {
                        if r.upserted + r.deleted > 0 {
                            if json {
                                println!("{}", serde_json::to_string(r).unwrap_or_default());
                            } else {
                                println!(
                                    "Synced: {} new or updated, {} removed.",
                                    r.upserted, r.deleted
                                );
                            }
                        }
                    })
                    .await?;
            }
        }
        Command::Feed {
            channel,
            unread,
            saved,
            limit,
        } => {
            let channel_id = match channel {
                None => None,
                Some(slug) => Some(
                    engine
                        .store()
                        .channels()?
                        .into_iter()
                        .find(|(c, _)| c.slug == slug)
                        .map(|(c, _)| c.id)
                        .ok_or(ClientError::NotFound("channel"))?,
                ),
            };
            let items = engine.store().feed(&FeedQuery {
                channel_id,
                unread_only: unread,
                saved_only: saved,
                limit,
                after: None,
            })?;
            print(json, &items, |items| print_items(items));
        }
        Command::Search { words, limit } => {
            let items = engine.store().search(&words.join(" "), limit)?;
            print(json, &items, |items| print_items(items));
        }
        Command::Show { id } => {
            let item = engine
                .store()
                .item(&id)?
                .ok_or(ClientError::NotFound("item"))?;
            engine.store().mark_read(&id, true)?;
            print(json, &item, |f| {
                println!("{}\n{}\n", f.item.title, f.item.url);
                if !f.item.summary.is_empty() {
                    println!("{}\n", f.item.summary);
                }
                println!("{}", relay_client::html::to_text(&f.item.body_html));
            });
        }
        Command::Share {
            id,
            network,
            account,
            text,
            at,
        } => {
            let account = match account {
                Some(a) => a,
                None => engine
                    .store()
                    .accounts()?
                    .into_iter()
                    .find(|a| a.network == network)
                    .map(|a| a.id)
                    .ok_or_else(|| {
                        ClientError::Invalid(format!(
                            "no {network} account is connected: relay account add-test ..."
                        ))
                    })?,
            };
            let item = engine
                .store()
                .item(&id)?
                .ok_or(ClientError::NotFound("item"))?
                .item;
            let text = text.unwrap_or_else(|| {
                item.suggested_texts
                    .iter()
                    .find(|s| s.network == network)
                    .map(|s| s.text.clone())
                    .unwrap_or_else(|| item.title.clone())
            });
            let share = engine.store().enqueue(&NewShare {
                item_id: id,
                account_id: account,
                text,
                scheduled_at: at,
            })?;
            // Out now when possible; queued either way.
            let sent = if at.is_none() {
                engine.dispatch().await.ok()
            } else {
                None
            };
            let share = engine.store().share(&share.id)?.unwrap_or(share);
            print(json, &share, |s| {
                println!("{} share {}: {}", s.network, s.id, s.state.as_str());
                if sent.is_none() && s.state == ShareState::Queued {
                    println!(
                        "It will go out {}.",
                        if at.is_some() {
                            "at its time"
                        } else {
                            "when the network is reachable"
                        }
                    );
                }
            });
        }
        Command::Queue { action } => match action.unwrap_or(QueueAction::List { state: None }) {
            QueueAction::List { state } => {
                let state = state
                    .map(|s| match s.as_str() {
                        "queued" => Ok(ShareState::Queued),
                        "sending" => Ok(ShareState::Sending),
                        "posted" => Ok(ShareState::Posted),
                        "failed" => Ok(ShareState::Failed),
                        "cancelled" => Ok(ShareState::Cancelled),
                        other => Err(ClientError::Invalid(format!("unknown state {other:?}"))),
                    })
                    .transpose()?;
                let shares = engine.store().shares(state)?;
                print(json, &shares, |shares| print_shares(shares));
            }
            QueueAction::Cancel { id } => {
                let share = engine.store().cancel_share(&id, "cancelled by you")?;
                print(json, &share, |s| println!("cancelled {}", s.id));
            }
            QueueAction::Retry { id } => {
                let share = engine.store().retry_share(&id)?;
                print(json, &share, |s| println!("queued {} again", s.id));
            }
        },
        Command::Dispatch => {
            let report = engine.dispatch().await?;
            print(json, &report, |r| {
                println!(
                    "posted {}, failed {}, waiting {}, recorded {}",
                    r.posted, r.failed, r.waiting, r.recorded
                )
            });
        }
        Command::Account(AccountAction::List) => {
            let accounts = engine.store().accounts()?;
            print(json, &accounts, |accounts| {
                for a in accounts {
                    println!("{}  {:<9} {:<20} {}", a.id, a.network, a.handle, a.status);
                }
            });
        }
        Command::Account(AccountAction::AddBluesky { handle, service }) => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let account = engine
                .connect_bluesky(&service, &handle, password.trim_end_matches(['\r', '\n']))
                .await?;
            print(json, &account, |a| {
                println!("connected {} as {} ({})", a.network, a.handle, a.id)
            });
        }
        Command::Account(AccountAction::Remove { id }) => {
            engine.disconnect(&id).await?;
            print(json, &id, |id| println!("disconnected {id}"));
        }
        Command::Account(AccountAction::AddTest {
            network,
            url,
            handle,
        }) => {
            let mut token = String::new();
            std::io::stdin().read_to_string(&mut token)?;
            let account =
                engine
                    .store()
                    .add_account(network, Provider::Test, &handle, Some(&url))?;
            engine
                .secrets()
                .set(&account_secret(&account.id), token.trim())?;
            print(json, &account, |a| {
                println!("connected {} as {} ({})", a.network, a.handle, a.id)
            });
        }
        Command::Status => {
            let status = engine.status()?;
            print(json, &status, |s| {
                match (&s.server, s.signed_in) {
                    (Some(server), true) => println!(
                        "Signed in to {server} as {}.",
                        s.person.as_deref().unwrap_or("?")
                    ),
                    (Some(server), false) => println!(
                        "Signed out from {server}{}.",
                        s.signed_out_reason
                            .as_deref()
                            .map(|r| format!(" ({r})"))
                            .unwrap_or_default()
                    ),
                    (None, _) => println!("Not enrolled: relay enrol SERVER CODE"),
                }
                println!(
                    "{} items, {} unread; {} shares queued, {} failed.",
                    s.items, s.unread, s.queued_shares, s.failed_shares
                );
            });
        }
        Command::SignOut => {
            engine.sign_out()?;
            print(json, &serde_json::json!({"signed_out": true}), |_| {
                println!("Signed out. Queued shares are kept.")
            });
        }
    }
    Ok(())
}

fn print_items(items: &[FeedItem]) {
    if items.is_empty() {
        println!("(nothing)");
    }
    for f in items {
        let marker = if f.read { " " } else { "•" };
        let saved = if f.saved { "★" } else { " " };
        println!(
            "{marker}{saved} {}  {}  {}",
            f.item.published_at.format("%Y-%m-%d"),
            f.item.id,
            f.item.title
        );
    }
}

fn print_shares(shares: &[Share]) {
    if shares.is_empty() {
        println!("(the outbox is empty)");
    }
    for s in shares {
        let detail = s.reason.as_deref().or(s.post_url.as_deref()).unwrap_or("");
        println!(
            "{}  {:<9} {:<9} {}  {}",
            s.id,
            s.state.as_str(),
            s.network,
            s.item_title,
            detail
        );
    }
}
