//! The points rules in force in a month, read and, once the month has begun, kept.

use relay_protocol::PointsRules;
use sqlx::AnyConnection;

use super::calendar::Month;
use crate::error::ApiError;

/// The rules in force in `month`: the newest set from that month or before, else the defaults.
pub async fn rules_for(
    conn: &mut AnyConnection,
    org_id: &str,
    month: Month,
) -> Result<PointsRules, ApiError> {
    let stored: Option<String> = sqlx::query_scalar(
        "SELECT rules FROM points_rules WHERE org_id = $1 AND from_month <= $2 \
         ORDER BY from_month DESC LIMIT 1",
    )
    .bind(org_id)
    .bind(month.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match stored {
        Some(json) => serde_json::from_str(&json)?,
        None => PointsRules::default(),
    })
}

/// The rules of months that have begun, per organisation: frozen, so kept once read (a share
/// record then reads none).
#[derive(Default, Clone)]
pub struct RulesCache(
    std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<(String, Month), PointsRules>>>,
);

impl RulesCache {
    pub async fn rules_for(
        &self,
        conn: &mut AnyConnection,
        org_id: &str,
        calendar: &super::calendar::Calendar,
        month: Month,
    ) -> Result<PointsRules, ApiError> {
        let key = (org_id.to_owned(), month);
        if let Some(rules) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(*rules);
        }
        let rules = rules_for(conn, org_id, month).await?;
        // A month not begun may still get new rules: only a begun one is kept.
        if calendar.starts_at(month) <= chrono::Utc::now() {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key, rules);
        }
        Ok(rules)
    }
}
