//! The feed screen's commands: pages of cards, search, an article, read and saved marks,
//! channels followed.

use relay_client::store::FeedQuery;
use tauri::State;

use crate::error::AppResult;
use crate::i18n;
use crate::state::AppState;
use crate::views::*;

/// Cards per feed page.
const PAGE: u32 = 50;

fn decode_after(after: &Option<String>) -> Option<(i64, String)> {
    let (ms, id) = after.as_deref()?.split_once(':')?;
    Some((ms.parse().ok()?, id.to_owned()))
}

/// The feed, newest first, a page at a time (`after`: the last card's `feed_key`).
#[tauri::command(async)]
#[specta::specta]
pub fn feed(state: State<'_, AppState>, filter: FeedFilter) -> AppResult<Vec<Card>> {
    crate::bench_mark("feed asked");
    let cards = feed_of(&state, filter)?;
    crate::bench_mark("feed answered");
    Ok(cards)
}

pub(crate) fn feed_of(state: &AppState, filter: FeedFilter) -> AppResult<Vec<Card>> {
    let items = state.engine.store().feed(&FeedQuery {
        channel_id: filter.channel_id,
        unread_only: filter.unread_only,
        saved_only: filter.saved_only,
        limit: PAGE,
        after: decode_after(&filter.after),
    })?;
    Ok(items.iter().map(Card::from_feed).collect())
}

/// Searches the cache (works offline); words may be prefixes, accents do not matter.
#[tauri::command(async)]
#[specta::specta]
pub fn search(state: State<'_, AppState>, words: String) -> AppResult<Vec<Card>> {
    if words.trim().is_empty() {
        return Ok(vec![]);
    }
    let items = state.engine.store().search(&words, PAGE)?;
    Ok(items.iter().map(Card::from_feed).collect())
}

/// Opens an item: its sanitised article and suggested wordings; marks it read.
#[tauri::command(async)]
#[specta::specta]
pub fn article(state: State<'_, AppState>, id: String) -> AppResult<Option<Article>> {
    let store = state.engine.store();
    let Some(found) = store.item(&id)? else {
        return Ok(None);
    };
    if !found.read {
        store.mark_read(&id, true)?;
    }
    let mut card = Card::from_feed(&found);
    card.read = true;
    Ok(Some(Article {
        card,
        body_html: relay_client::html::sanitize(&found.item.body_html, crate::images::proxied),
        suggestions: found
            .item
            .suggested_texts
            .iter()
            .map(|s| Suggestion {
                network: s.network.into(),
                language: s.language.clone(),
                text: s.text.clone(),
            })
            .collect(),
    }))
}

#[tauri::command(async)]
#[specta::specta]
pub fn mark_read(state: State<'_, AppState>, id: String, read: bool) -> AppResult<()> {
    Ok(state.engine.store().mark_read(&id, read)?)
}

#[tauri::command(async)]
#[specta::specta]
pub fn mark_saved(state: State<'_, AppState>, id: String, saved: bool) -> AppResult<()> {
    Ok(state.engine.store().mark_saved(&id, saved)?)
}

#[tauri::command(async)]
#[specta::specta]
pub fn channels(state: State<'_, AppState>) -> AppResult<Vec<ChannelView>> {
    channels_of(&state)
}

pub(crate) fn channels_of(state: &AppState) -> AppResult<Vec<ChannelView>> {
    let lang = i18n::current(&state.engine).code();
    Ok(state
        .engine
        .store()
        .channels()?
        .into_iter()
        .map(|(c, followed)| ChannelView {
            name: c
                .names
                .get(lang)
                .or_else(|| c.names.get("en"))
                .cloned()
                .unwrap_or_else(|| c.slug.clone()),
            id: c.id,
            followed,
        })
        .collect())
}

#[tauri::command(async)]
#[specta::specta]
pub fn follow_channel(state: State<'_, AppState>, id: String, followed: bool) -> AppResult<()> {
    Ok(state.engine.store().follow_channel(&id, followed)?)
}
