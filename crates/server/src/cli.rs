//! The `relay-server` command line: run the server, and administer it without the API.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use relay_protocol::{NewChannel, NewPerson, Role};

use crate::auth::store::{create_enrolment, TokenLifetimes};
use crate::db::Db;
use crate::state::{AppState, Config};

#[derive(Debug, Parser)]
#[command(name = "relay-server", version, about = "Relay's central server")]
pub struct Cli {
    /// A settings file (TOML; see `docs/operations.md`). Variables and flags override it.
    #[arg(long, env = "RELAY_CONFIG", global = true)]
    pub config: Option<std::path::PathBuf>,

    /// Where the data lives: `sqlite:PATH` (created when missing) or `postgres://...`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite:relay-server.db",
        global = true
    )]
    pub database_url: String,

    /// The URL devices reach the server at, used in enrolment links.
    #[arg(long, env = "RELAY_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Let sources reach loopback, private and link-local addresses (feeds on an intranet).
    /// Off by default: a curator's URL must not reach the server's own network.
    #[arg(long, env = "RELAY_SOURCES_ALLOW_PRIVATE", global = true)]
    pub sources_allow_private: bool,

    #[command(subcommand)]
    pub command: Command,

    /// The settings given as flags on this command line (for `config check`).
    #[arg(skip)]
    pub flags: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API.
    Serve(ServeArgs),
    /// Apply database migrations and exit (serve does this too).
    Migrate,
    /// Organisations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// People.
    #[command(subcommand)]
    Person(PersonCommand),
    /// Channels.
    #[command(subcommand)]
    Channel(ChannelCommand),
    /// Print a one-time enrolment code (and link) for a person's next device.
    Enrol {
        #[arg(long, default_value = crate::demo::DEMO_ORG)]
        org: String,
        /// The person's email address.
        #[arg(long)]
        email: String,
        /// Hours the code stays valid.
        #[arg(long)]
        hours: Option<u32>,
    },
    /// Print a one-time sign-in link to the web console for a curator or an admin (valid 15
    /// minutes).
    ConsoleLink {
        #[arg(long, default_value = crate::demo::DEMO_ORG)]
        org: String,
        /// The person's email address.
        #[arg(long)]
        email: String,
    },
    /// Curated content.
    #[command(subcommand)]
    Content(crate::content::cli::ContentCommand),
    /// Sources: the company's official accounts and feeds, gathered as drafts.
    #[command(subcommand)]
    Source(crate::sources::cli::SourceCommand),
    /// SCIM provisioning: the company directory's bearer tokens.
    #[command(subcommand)]
    Scim(crate::scim::cli::ScimCommand),
    /// The monthly programme: points rules.
    #[command(subcommand)]
    Programme(crate::programme::cli::ProgrammeCommand),
    /// Print a new VAPID key pair for Web Push (set the private one as `RELAY_VAPID_PRIVATE_KEY`;
    /// devices read the public one from `GET /v1/push/config`).
    VapidKeys,
    /// Create the demo organisation (about 60 items in English and French, a few people) and
    /// print an enrolment code for the demo employee. Run again for a fresh code.
    Demo,
    /// Take a consistent copy of the embedded SQLite database while the server runs, and
    /// check it (PostgreSQL: pg_dump).
    Backup {
        /// The copy (a new file).
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Put a copy made by `backup` back as the database, every server stopped.
    Restore {
        /// The copy.
        #[arg(long)]
        from: std::path::PathBuf,
        /// Replace an existing database (it is kept beside, as `FILE.before-restore`).
        #[arg(long)]
        replace: bool,
    },
    /// Ask the server listening at `--bind` whether it is ready (`GET /readyz`): exits 0 when
    /// it is. A container's health check (the image has no shell and no curl).
    Probe {
        #[arg(long, env = "RELAY_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
    },
    /// The settings: `config check` prints the effective ones (secrets masked) and fails on
    /// an invalid settings file or value.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective settings, each with where it came from, and check them.
    Check,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[arg(long, env = "RELAY_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Reverse proxies in front of the server, whose `X-Forwarded-For` names the client: a
    /// comma-separated list of addresses and networks (`10.0.0.0/8, ::1`). Without it, behind
    /// a proxy every request seems to come from the proxy.
    #[arg(long, env = "RELAY_TRUSTED_PROXIES", value_parser = crate::proxies::TrustedProxies::parse)]
    pub trusted_proxies: Option<crate::proxies::TrustedProxies>,
    /// Serve Prometheus metrics at http://ADDR/metrics, on a listener of its own apart from
    /// the API (none: no metrics).
    #[arg(long, env = "RELAY_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,
    /// Load the demo organisation first (when it is not there yet) and print an enrolment code.
    #[arg(long)]
    pub demo: bool,
    /// Access token lifetime, seconds.
    #[arg(long, env = "RELAY_ACCESS_TTL_SECS", default_value_t = 3600)]
    pub access_ttl_secs: i64,
    /// Enrolment, refresh and sign-in attempts allowed per client address per minute.
    #[arg(long, env = "RELAY_ATTEMPTS_PER_ADDRESS", default_value_t = 60)]
    pub attempts_per_address: u32,
    /// Days a retracted or expired item is still sent to devices as a tombstone; a device
    /// offline for longer rebuilds its cache when it comes back.
    #[arg(long, env = "RELAY_TOMBSTONE_DAYS", default_value_t = crate::state::DEFAULT_TOMBSTONE_DAYS)]
    pub tombstone_days: i64,
    /// Refresh and sign-in attempts allowed per organisation per minute.
    #[arg(long, env = "RELAY_ATTEMPTS_PER_ORG", default_value_t = 3000)]
    pub attempts_per_org: u32,
    /// How often scheduled publications and expiries are applied, milliseconds.
    #[arg(long, env = "RELAY_CLOCK_INTERVAL_MS", default_value_t = 1000)]
    pub clock_interval_ms: u64,
    /// Hours after a programme month ends during which its share records are still taken.
    #[arg(long, env = "RELAY_MONTH_GRACE_HOURS", default_value_t = crate::state::DEFAULT_MONTH_GRACE_HOURS)]
    pub month_grace_hours: i64,
    /// drand's HTTP API, where the prize draw reads its beacon round (quicknet). Any copy of
    /// it will do: every round's signature is checked against quicknet's built-in key, and
    /// quicknet's clock is built in too (no option moves it).
    #[arg(long, env = "RELAY_DRAND_URL", default_value = "https://api.drand.sh")]
    pub drand_url: String,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organisation.
    Create {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        /// The time zone its programme months follow (IANA name).
        #[arg(long, default_value = "UTC")]
        time_zone: String,
    },
    /// Set the time zone an organisation's programme months follow (IANA name, e.g.
    /// Europe/Paris).
    TimeZone {
        #[arg(long, default_value = crate::demo::DEMO_ORG)]
        org: String,
        zone: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PersonCommand {
    /// Add a person to an organisation.
    Add {
        #[arg(long, default_value = crate::demo::DEMO_ORG)]
        org: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// ISO country code, e.g. FR.
        #[arg(long)]
        country: String,
        /// Language code, e.g. fr.
        #[arg(long)]
        language: String,
        #[arg(long, default_value = "")]
        department: String,
        #[arg(long, default_value = "employee")]
        role: Role,
    },
}

#[derive(Debug, Subcommand)]
pub enum ChannelCommand {
    /// Add a channel: `--name en=Careers --name fr=Carrières`.
    Add {
        #[arg(long, default_value = crate::demo::DEMO_ORG)]
        org: String,
        #[arg(long)]
        slug: String,
        #[arg(long = "name", value_parser = parse_pair, required = true)]
        names: Vec<(String, String)>,
    },
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected LANG=NAME, got {s:?}"))
}

fn public_url(cli: &Cli, bind: Option<SocketAddr>) -> String {
    cli.public_url.clone().unwrap_or_else(|| {
        format!(
            "http://{}",
            bind.unwrap_or_else(|| ([127, 0, 0, 1], 8080).into())
        )
    })
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Config(ConfigCommand::Check) = cli.command {
        return crate::settings_check::check(&cli);
    }
    match &cli.command {
        // Neither opens the database as the server does (that would migrate it).
        Command::Backup { to } => {
            let copy = crate::backup::backup(&cli.database_url, to).await?;
            println!(
                "backed up to {} ({} bytes, migration {}; integrity checked)",
                to.display(),
                copy.bytes,
                copy.migration
            );
            return Ok(());
        }
        Command::Restore { from, replace } => {
            let copy = crate::backup::restore(&cli.database_url, from, *replace).await?;
            println!(
                "restored {} ({} bytes, migration {}); the server migrates it further at start",
                from.display(),
                copy.bytes,
                copy.migration
            );
            return Ok(());
        }
        _ => {}
    }
    if let Command::Probe { bind } = cli.command {
        return probe(bind).await;
    }
    if let Command::VapidKeys = cli.command {
        // No database: a key pair is all this prints.
        let (private, public) = crate::push::WebPushConfig::generate();
        println!("RELAY_VAPID_PRIVATE_KEY={private}");
        println!("# public key (served to devices at /v1/push/config): {public}");
        return Ok(());
    }
    let db = Db::connect(&cli.database_url).await?;
    let bind = match &cli.command {
        Command::Serve(args) => Some(args.bind),
        _ => None,
    };
    let mut tokens = TokenLifetimes::default();
    let mut attempts = crate::auth::AttemptQuota::default();
    let mut tombstone_max_age = chrono::Duration::days(crate::state::DEFAULT_TOMBSTONE_DAYS);
    let mut month_grace = chrono::Duration::hours(crate::state::DEFAULT_MONTH_GRACE_HOURS);
    let mut beacon = crate::programme::draw::BeaconConfig::default();
    let mut sources = crate::sources::SourcesConfig::default();
    sources.fetch.allow_private = cli.sources_allow_private;
    let mut trusted_proxies = crate::proxies::TrustedProxies::default();
    if let Command::Serve(args) = &cli.command {
        trusted_proxies = args.trusted_proxies.clone().unwrap_or_default();
        beacon.url = args.drand_url.clone();
        anyhow::ensure!(
            args.month_grace_hours >= 0,
            "--month-grace-hours must not be negative"
        );
        month_grace = chrono::Duration::hours(args.month_grace_hours);
        anyhow::ensure!(args.tombstone_days > 0, "--tombstone-days must be positive");
        tombstone_max_age = chrono::Duration::days(args.tombstone_days);
        attempts.per_address = args.attempts_per_address;
        attempts.per_org = args.attempts_per_org;
        anyhow::ensure!(
            args.access_ttl_secs > 0,
            "--access-ttl-secs must be positive"
        );
        tokens.access = chrono::Duration::seconds(args.access_ttl_secs);
    }
    let state = AppState::new(
        db.clone(),
        Config {
            public_url: public_url(&cli, bind),
            tokens,
            linkedin: crate::social::linkedin::LinkedInConfig::from_env(),
            oidc: crate::auth::oidc::OidcConfig::from_env(),
            attempts,
            tombstone_max_age,
            month_grace,
            beacon,
            sources,
            confirm: Default::default(),
            console: crate::console::ConsoleConfig::from_env(),
            push: crate::push::PushSettings::from_env()?,
            trusted_proxies,
        },
    );
    match cli.command {
        Command::Serve(args) => {
            if args.demo {
                let enrolment = crate::demo::ensure(&state).await?;
                crate::demo::print_enrolment(&enrolment);
                crate::demo::print_console_link(&state).await?;
            }
            let mut running = crate::serve::start(
                state,
                args.bind,
                Duration::from_millis(args.clock_interval_ms.max(10)),
            )
            .await?;
            let plain = std::env::var("RELAY_LOG_FORMAT").as_deref() != Ok("json");
            if let Some(bind) = args.metrics_bind {
                let url = format!("http://{}/metrics", running.serve_metrics(bind).await?);
                tracing::info!(%url, "metrics served");
                if plain {
                    eprintln!("relay-server metrics on {url}");
                }
            }
            tracing::info!(url = %running.base_url(), "relay-server listening");
            // For people and scripts (the last line it prints at start); a log collector
            // reading JSON gets the log lines only.
            if plain {
                eprintln!("relay-server listening on {}", running.base_url());
            }
            running.serve_until_signalled().await?;
        }
        Command::Migrate => println!("database is up to date"),
        Command::Org(OrgCommand::Create {
            slug,
            name,
            time_zone,
        }) => {
            crate::programme::calendar::check_zone(&time_zone)?;
            let org = crate::orgs::create(&db, &name, &slug).await?;
            crate::orgs::set_time_zone(&db, &org.id, &time_zone).await?;
            println!("created organisation {} ({})", org.slug, org.id);
        }
        Command::Org(OrgCommand::TimeZone { org, zone }) => {
            let org = crate::orgs::by_slug(&db, &org).await?;
            crate::orgs::set_time_zone(&db, &org.id, &zone).await?;
            println!("{} follows {}", org.slug, zone.trim());
        }
        Command::Programme(command) => crate::programme::cli::run(&state, command).await?,
        Command::Person(PersonCommand::Add {
            org,
            name,
            email,
            country,
            language,
            department,
            role,
        }) => {
            let org = crate::orgs::by_slug(&db, &org).await?;
            let new = NewPerson {
                name,
                email,
                country,
                language,
                department,
                role,
            };
            let person = crate::people::add(&db, &org.id, None, new).await?;
            println!(
                "added {} <{}> as {} ({})",
                person.name, person.email, person.role, person.id
            );
        }
        Command::Source(command) => crate::sources::cli::run(&state, command).await?,
        Command::Scim(command) => {
            crate::scim::cli::run(&db, &state.config.public_url, command).await?
        }
        Command::Channel(ChannelCommand::Add { org, slug, names }) => {
            let org = crate::orgs::by_slug(&db, &org).await?;
            let names: BTreeMap<_, _> = names.into_iter().collect();
            let channel =
                crate::channels::create(&state, &org.id, None, NewChannel { slug, names }).await?;
            println!("added channel {} ({})", channel.slug, channel.id);
        }
        Command::Enrol { org, email, hours } => {
            let org = crate::orgs::by_slug(&db, &org).await?;
            let person = crate::people::find_by_email(&db, &org.id, &email).await?;
            let mut tx = db.begin().await?;
            let enrolment = create_enrolment(
                &mut tx,
                &org.id,
                &person.id,
                hours,
                &state.config.public_url,
            )
            .await?;
            tx.commit().await?;
            crate::demo::print_enrolment(&enrolment);
        }
        Command::ConsoleLink { org, email } => {
            let org = crate::orgs::by_slug(&db, &org).await?;
            let person = crate::people::find_by_email(&db, &org.id, &email).await?;
            let link = crate::console::links::create(
                &db,
                &org.id,
                &person,
                &state.config.public_url,
                state.config.console.link_valid,
            )
            .await?;
            println!(
                "Console sign-in link for {} (valid 15 minutes, once):",
                person.name
            );
            println!("{link}");
        }
        Command::Content(command) => crate::content::cli::run(&state, command).await?,
        Command::Config(_)
        | Command::VapidKeys
        | Command::Backup { .. }
        | Command::Probe { .. }
        | Command::Restore { .. } => {
            unreachable!("answered before the database opens")
        }
        Command::Demo => {
            let enrolment = crate::demo::ensure(&state).await?;
            crate::demo::print_enrolment(&enrolment);
            crate::demo::print_console_link(&state).await?;
        }
    }
    Ok(())
}

/// `probe`: the server at `bind` answers `/readyz` with 200 (an unspecified address is asked
/// on loopback).
async fn probe(mut bind: SocketAddr) -> anyhow::Result<()> {
    if bind.ip().is_unspecified() {
        bind.set_ip(if bind.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    let url = format!("http://{bind}/readyz");
    let answer = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .build()?
        .get(&url)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
    let status = answer.status();
    let body = answer.text().await.unwrap_or_default();
    anyhow::ensure!(status.is_success(), "{url}: {status} {body}");
    println!("{url}: {body}");
    Ok(())
}
