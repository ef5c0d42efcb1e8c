//! Sharing: queue a share, the outbox, sending due shares now.

use chrono::{DateTime, Utc};
use clap::Subcommand;
use relay_client::store::{LinkChoice, NewShare, Share, ShareState};
use relay_client::{ClientError, Engine};
use relay_protocol::Network;

use crate::print;

#[derive(Debug, Subcommand)]
pub enum QueueAction {
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

#[derive(Debug, clap::Args)]
pub struct ShareOrder {
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
    /// Share the item's own address instead of your tracked link.
    #[arg(long)]
    original_link: bool,
}

pub async fn share(engine: &Engine, json: bool, order: ShareOrder) -> Result<(), ClientError> {
    let ShareOrder {
        id,
        network,
        account,
        text,
        at,
        original_link,
    } = order;
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
                    "no {network} account is connected. Connect one in the Relay app's Accounts \
                     screen (Bluesky also with `relay account add-bluesky --handle NAME`), or \
                     share on {network}'s own page from the app"
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
    if let Some(at) = at.filter(|at| *at <= Utc::now()) {
        eprintln!(
            "Note: {} has passed. The share is queued and goes out at the next dispatch \
             (at once if the Relay app is running); give a future time to schedule it.",
            at.format("%Y-%m-%d %H:%M UTC")
        );
    }
    let share = engine.store().enqueue(&NewShare {
        link: if original_link {
            LinkChoice::Original
        } else {
            LinkChoice::Tracked
        },
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
    Ok(())
}

pub fn queue(engine: &Engine, json: bool, action: Option<QueueAction>) -> Result<(), ClientError> {
    match action.unwrap_or(QueueAction::List { state: None }) {
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
    }
    Ok(())
}

pub async fn dispatch(engine: &Engine, json: bool) -> Result<(), ClientError> {
    let report = engine.dispatch().await?;
    print(json, &report, |r| {
        println!(
            "posted {}, failed {}, waiting {}, recorded {}",
            r.posted, r.failed, r.waiting, r.recorded
        )
    });
    Ok(())
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
