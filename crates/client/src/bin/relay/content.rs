//! Sync (with its progress bar), the feed, search, one item.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use relay_client::store::{FeedItem, FeedQuery};
use relay_client::{ClientError, Engine};

use crate::print;

pub async fn sync(
    engine: &Engine,
    json: bool,
    watch: bool,
    page_size: u32,
) -> Result<(), ClientError> {
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
    Ok(())
}

/// One page of a listing: `limit` entries, page 1 first.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: u32,
    pub page: u32,
}

impl Page {
    /// Keeps this page's entries of `all` (fetched up to one past it) and says on stderr when
    /// more exist, with the command that shows them.
    fn cut<T>(self, mut all: Vec<T>, again: &str) -> Vec<T> {
        let start = ((self.page - 1) * self.limit) as usize;
        let more = all.len() > start + self.limit as usize;
        all.truncate(start + self.limit as usize);
        let shown: Vec<T> = all.into_iter().skip(start).collect();
        if more {
            eprintln!(
                "More entries exist: {again} --limit {} --page {}",
                self.limit,
                self.page + 1
            );
        }
        shown
    }
}

pub fn feed(
    engine: &Engine,
    json: bool,
    channel: Option<String>,
    unread: bool,
    saved: bool,
    page: Page,
) -> Result<(), ClientError> {
    let mut again = String::from("relay feed");
    if let Some(slug) = &channel {
        again.push_str(&format!(" --channel {slug}"));
    }
    for (on, flag) in [(unread, " --unread"), (saved, " --saved")] {
        if on {
            again.push_str(flag);
        }
    }
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
    // Walks the feed by keyset pages up to the one asked for, plus one entry to know whether
    // more exist.
    let wanted = (page.page as usize) * (page.limit as usize) + 1;
    let mut items: Vec<FeedItem> = Vec::new();
    while items.len() < wanted {
        let batch = engine.store().feed(&FeedQuery {
            channel_id: channel_id.clone(),
            unread_only: unread,
            saved_only: saved,
            limit: ((wanted - items.len()) as u32).min(500),
            after: items
                .last()
                .map(|f| (f.item.published_at.timestamp_millis(), f.item.id.clone())),
        })?;
        let done = batch.is_empty();
        items.extend(batch);
        if done {
            break;
        }
    }
    let items = page.cut(items, &again);
    print(json, &items, |items| print_items(items));
    Ok(())
}

pub fn search(
    engine: &Engine,
    json: bool,
    words: &[String],
    page: Page,
) -> Result<(), ClientError> {
    let window = relay_client::store::SEARCH_WINDOW;
    let wanted = (page.page * page.limit + 1).min(window);
    let items = engine.store().search(&words.join(" "), wanted)?;
    let items = page.cut(items, &format!("relay search {}", words.join(" ")));
    print(json, &items, |items| print_items(items));
    Ok(())
}

pub fn show(engine: &Engine, json: bool, id: &str) -> Result<(), ClientError> {
    let item = engine
        .store()
        .item(id)?
        .ok_or(ClientError::NotFound("item"))?;
    engine.store().mark_read(id, true)?;
    print(json, &item, |f| {
        println!("{}\n{}\n", f.item.title, f.item.url);
        if !f.item.summary.is_empty() {
            println!("{}\n", f.item.summary);
        }
        println!("{}", relay_client::html::to_text(&f.item.body_html));
    });
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
