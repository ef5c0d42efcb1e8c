//! `relay-server source ...`: sources from the command line, as curators have them in the API.

use clap::Subcommand;
use relay_protocol::{NewSource, SourceKind};

use crate::state::AppState;

#[derive(Debug, Subcommand)]
pub enum SourceCommand {
    /// Add a source: its entries arrive as drafts in the channel (or published, with
    /// --auto-publish). It is polled at once by a running server.
    Add {
        #[arg(long, default_value = crate::demo::DEMO_ORG)]
        org: String,
        /// feed, youtube, mastodon, bluesky or page.
        #[arg(long)]
        kind: SourceKind,
        /// A feed or page URL, a YouTube channel, @name@instance, or a Bluesky handle.
        #[arg(long)]
        address: String,
        /// The channel's slug.
        #[arg(long)]
        channel: String,
        #[arg(long)]
        auto_publish: bool,
        /// Minutes between polls (5 to 1440).
        #[arg(long)]
        interval_minutes: Option<u32>,
    },
    /// The organisation's sources and their health.
    List {
        #[arg(long, default_value = crate::demo::DEMO_ORG)]
        org: String,
    },
    /// Poll a source now and say what it found.
    Poll {
        #[arg(long, default_value = crate::demo::DEMO_ORG)]
        org: String,
        id: String,
    },
}

pub async fn run(state: &AppState, command: SourceCommand) -> anyhow::Result<()> {
    match command {
        SourceCommand::Add {
            org,
            kind,
            address,
            channel,
            auto_publish,
            interval_minutes,
        } => {
            let org = crate::orgs::by_slug(&state.db, &org).await?;
            let channels = crate::channels::list_all(&state.db, &org.id).await?;
            let channel = channels
                .into_iter()
                .find(|c| c.slug == channel)
                .ok_or_else(|| anyhow::anyhow!("no channel {channel:?} in {}", org.slug))?;
            let source = super::create(
                state,
                &org.id,
                None,
                NewSource {
                    kind,
                    address,
                    channel_id: channel.id,
                    auto_publish,
                    interval_minutes,
                },
            )
            .await?;
            println!("added source {} ({})", source.address, source.id);
        }
        SourceCommand::List { org } => {
            let org = crate::orgs::by_slug(&state.db, &org).await?;
            for s in super::list(state, &org.id).await? {
                let health = &s.health;
                println!(
                    "{}  {:<8} {}  entries {}  last fetch {}{}{}",
                    s.id,
                    s.kind.as_str(),
                    s.address,
                    health.entries,
                    health
                        .last_fetch_at
                        .map_or("never".to_owned(), |t| t.to_rfc3339()),
                    if s.paused { "  paused" } else { "" },
                    health
                        .last_error
                        .as_deref()
                        .map(|e| format!(
                            "  error: {e}{}",
                            if health.flagged {
                                " (failing for a day)"
                            } else {
                                ""
                            }
                        ))
                        .unwrap_or_default(),
                );
            }
        }
        SourceCommand::Poll { org, id } => {
            let org = crate::orgs::by_slug(&state.db, &org).await?;
            let source = super::get(state, &org.id, &id).await?;
            let r = super::poll(state, &source).await?;
            match r.error {
                Some(error) => anyhow::bail!("{}: {error}", source.address),
                None if r.not_modified => println!("{}: not modified", source.address),
                None => println!(
                    "{}: {} entries, {} new, {} duplicates, {} left out",
                    source.address, r.seen, r.created, r.duplicates, r.skipped
                ),
            }
        }
    }
    Ok(())
}
