//! Items opened, kept by day until the day is over and reported (aggregates only on the
//! server: each item's reads, never who read what).

use rusqlite::params;

use super::Store;
use crate::error::ClientError;

/// Today's date, UTC, as read reports name days.
pub fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

impl Store {
    /// Notes that an item was opened today.
    pub fn note_read(&self, item_id: &str) -> Result<(), ClientError> {
        self.conn().execute(
            "INSERT INTO reads_pending (day, item_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![today(), item_id],
        )?;
        Ok(())
    }

    /// Days over and not reported yet, oldest first, with their items.
    pub fn pending_reads(&self) -> Result<Vec<(String, Vec<String>)>, ClientError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT day, item_id FROM reads_pending WHERE day < ?1 ORDER BY day, item_id",
        )?;
        let rows = stmt.query_map([today()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut days: Vec<(String, Vec<String>)> = Vec::new();
        for row in rows {
            let (day, item) = row?;
            match days.last_mut() {
                Some((d, items)) if *d == day => items.push(item),
                _ => days.push((day, vec![item])),
            }
        }
        Ok(days)
    }

    /// Forgets a reported day.
    pub fn clear_reads(&self, day: &str) -> Result<(), ClientError> {
        self.conn()
            .execute("DELETE FROM reads_pending WHERE day = ?1", [day])?;
        Ok(())
    }
}
