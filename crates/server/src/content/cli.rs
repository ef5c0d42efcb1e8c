//! `relay-server content`: curated content from the command line (add, approve, retract, list).

use clap::{Args, Subcommand};
use relay_protocol::{Audience, ContentKind, ContentState, NewContent};

use crate::state::AppState;

#[derive(Debug, Subcommand)]
pub enum ContentCommand {
    /// Add a draft (and approve it with --approve). Prints its id.
    Add(Box<ContentAddArgs>),
    /// Approve a draft.
    Approve {
        #[arg(long, default_value = crate::demo::DEMO_ORG)]
        org: String,
        id: String,
    },
    /// Retract an item; devices drop it and cancel queued shares of it.
    Retract {
        #[arg(long, default_value = crate::demo::DEMO_ORG)]
        org: String,
        id: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// List items, newest change first.
    List {
        #[arg(long, default_value = crate::demo::DEMO_ORG)]
        org: String,
        #[arg(long)]
        state: Option<ContentState>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

#[derive(Debug, Args)]
pub struct ContentAddArgs {
    #[arg(long, default_value = crate::demo::DEMO_ORG)]
    pub org: String,
    /// Channel slug.
    #[arg(long)]
    pub channel: String,
    #[arg(long, default_value = "article")]
    pub kind: ContentKind,
    #[arg(long)]
    pub title: String,
    #[arg(long, default_value = "")]
    pub summary: String,
    /// HTML body (sanitised).
    #[arg(long, default_value = "")]
    pub body: String,
    #[arg(long)]
    pub url: String,
    #[arg(long)]
    pub image: Option<String>,
    #[arg(long)]
    pub language: String,
    /// Audience countries (repeat); none means every country.
    #[arg(long = "country")]
    pub countries: Vec<String>,
    /// Audience languages (repeat).
    #[arg(long = "audience-language")]
    pub languages: Vec<String>,
    /// Audience departments (repeat).
    #[arg(long = "department")]
    pub departments: Vec<String>,
    /// RFC 3339 publish time.
    #[arg(long)]
    pub publish_at: Option<chrono::DateTime<chrono::Utc>>,
    /// RFC 3339 expiry.
    #[arg(long)]
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Approve it right away.
    #[arg(long)]
    pub approve: bool,
}

pub async fn run(state: &AppState, command: ContentCommand) -> anyhow::Result<()> {
    let db = &state.db;
    match command {
        ContentCommand::Add(a) => {
            let org = crate::orgs::by_slug(db, &a.org).await?;
            let channel = crate::channels::list_all(db, &org.id)
                .await?
                .into_iter()
                .find(|c| c.slug == a.channel)
                .ok_or_else(|| anyhow::anyhow!("no channel {:?} in {}", a.channel, org.slug))?;
            let new = NewContent {
                kind: a.kind,
                channel_id: channel.id,
                title: a.title,
                summary: a.summary,
                body_html: a.body,
                url: a.url,
                image_url: a.image,
                language: a.language,
                suggested_texts: vec![],
                audience: Audience {
                    countries: a.countries,
                    languages: a.languages,
                    departments: a.departments,
                },
                publish_at: a.publish_at,
                expires_at: a.expires_at,
            };
            let mut item = crate::content::store::create(state, &org.id, None, new).await?;
            if a.approve {
                item = crate::content::store::approve(state, &org.id, None, &item.item.id).await?;
            }
            println!("{}", item.item.id);
        }
        ContentCommand::Approve { org, id } => {
            let org = crate::orgs::by_slug(db, &org).await?;
            let item = crate::content::store::approve(state, &org.id, None, &id).await?;
            println!(
                "approved {} (published {})",
                item.item.title, item.item.published_at
            );
        }
        ContentCommand::Retract { org, id, reason } => {
            let org = crate::orgs::by_slug(db, &org).await?;
            let item = crate::content::store::retract(state, &org.id, None, &id, &reason).await?;
            println!("retracted {}", item.item.title);
        }
        ContentCommand::List {
            org,
            state: filter,
            limit,
        } => {
            let org = crate::orgs::by_slug(db, &org).await?;
            for c in crate::content::store::list(state, &org.id, filter, limit, 0).await? {
                let live = if c.live { "live" } else { "" };
                println!(
                    "{}  {:<9} {:<4} {:<2}  {}",
                    c.item.id, c.state, live, c.item.language, c.item.title
                );
            }
        }
    }
    Ok(())
}
