//! What a content breakdown adds to the month's publication: titles, and reads where they may
//! be shown.

use std::collections::HashMap;

use relay_protocol::{GroupFigures, MIN_GROUP};

use crate::error::ApiError;
use crate::programme::calendar::Month;
use crate::state::AppState;

/// Content breakdowns: each item's title and reads, and the month's most read items that nobody
/// shared. Reads are counts of openings, never of who opened; an item's reads show only when at
/// least [`MIN_GROUP`] people could have read it (its audience): an item aimed at one person
/// would otherwise say whether they opened it.
pub async fn label_contents(
    state: &AppState,
    org_id: &str,
    month: Month,
    groups: &mut Vec<GroupFigures>,
) -> Result<(), ApiError> {
    let key = month.to_string();
    let reads: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT r.item_id, i.title, i.audience, CAST(SUM(r.reads) AS BIGINT) FROM item_reads r \
         JOIN items i ON i.id = r.item_id \
         WHERE r.org_id = $1 AND r.day >= $2 AND r.day < $3 GROUP BY r.item_id, i.title, i.audience",
    )
    .bind(org_id)
    .bind(format!("{key}-01"))
    .bind(format!("{key}-32"))
    .fetch_all(&state.db.read)
    .await?;
    let audiences: Vec<(&str, &str)> = reads
        .iter()
        .map(|(id, _, audience, _)| (id.as_str(), audience.as_str()))
        .collect();
    let readers = audience_sizes(state, org_id, &audiences).await?;
    let readable = |id: &str| readers.get(id).copied().unwrap_or(0) >= MIN_GROUP;
    let mut reads: HashMap<String, (String, u64)> = reads
        .into_iter()
        .map(|(id, title, _, n)| (id, (title, n as u64)))
        .collect();
    let shared: Vec<String> = groups.iter().map(|g| g.key.clone()).collect();
    let mut titles: HashMap<String, String> = HashMap::new();
    for chunk in shared.chunks(500) {
        let sql = format!(
            "SELECT id, title FROM items WHERE id IN ({})",
            crate::db::placeholders(1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, (String, String)>(&sql);
        for id in chunk {
            query = query.bind(id);
        }
        titles.extend(query.fetch_all(&state.db.read).await?);
    }
    for g in groups.iter_mut() {
        g.label = titles.get(&g.key).cloned();
        let n = reads.remove(&g.key).map_or(0, |(_, n)| n);
        g.reads = (n == 0 || readable(&g.key)).then_some(n);
    }
    // Unshared items are listed by reads: only those whose reads may be shown.
    let mut unshared: Vec<(String, (String, u64))> =
        reads.into_iter().filter(|(id, _)| readable(id)).collect();
    unshared.sort_by(|a, b| b.1 .1.cmp(&a.1 .1).then(a.0.cmp(&b.0)));
    for (id, (title, n)) in unshared.into_iter().take(MOST_READ_UNSHARED) {
        groups.push(GroupFigures {
            key: id,
            hidden: false,
            people: None,
            shares: Some(0),
            verified: Some(0),
            declared: Some(0),
            clicks: Some(0),
            reach: Some(0),
            reach_unknown: Some(0),
            label: Some(title),
            reads: Some(n),
        });
    }
    Ok(())
}

/// How many active people each item is offered to, from `(item id, audience JSON)` pairs.
async fn audience_sizes(
    state: &AppState,
    org_id: &str,
    items: &[(&str, &str)],
) -> Result<HashMap<String, u64>, ApiError> {
    if items.is_empty() {
        return Ok(HashMap::new());
    }
    let cells: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT country, language, department, COUNT(*) FROM people \
         WHERE org_id = $1 AND active = 1 AND erased_at IS NULL \
         GROUP BY country, language, department",
    )
    .bind(org_id)
    .fetch_all(&state.db.read)
    .await?;
    let mut sizes = HashMap::new();
    for (id, audience) in items {
        let audience: relay_protocol::Audience = serde_json::from_str(audience)?;
        let size: i64 = cells
            .iter()
            .filter(|(c, l, d, _)| audience.includes(c, l, d))
            .map(|cell| cell.3)
            .sum();
        sizes.insert((*id).to_owned(), u64::try_from(size).unwrap_or(0));
    }
    Ok(sizes)
}

/// How many read but unshared items a content breakdown lists after the shared ones.
const MOST_READ_UNSHARED: usize = 20;
