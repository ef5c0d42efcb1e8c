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

pub fn feed(
    engine: &Engine,
    json: bool,
    channel: Option<String>,
    unread: bool,
    saved: bool,
    limit: u32,
) -> Result<(), ClientError> {
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
    Ok(())
}

pub fn search(
    engine: &Engine,
    json: bool,
    words: &[String],
    limit: u32,
) -> Result<(), ClientError> {
    let items = engine.store().search(&words.join(" "), limit)?;
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
