//! Connected social accounts: which network, which handle, which implementation. Their tokens
//! are in the keychain, under the account id.

use relay_protocol::Network;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::{now_ms, Store};
use crate::error::ClientError;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account {
    pub id: String,
    pub network: Network,
    /// Which `SocialNetwork` implementation posts for it (`test` until the networks issue).
    pub provider: String,
    pub handle: String,
    pub base_url: Option<String>,
    /// `connected`, or `reconnect` when its token stopped working.
    pub status: String,
}

impl Store {
    pub fn add_account(
        &self,
        network: Network,
        provider: &str,
        handle: &str,
        base_url: Option<&str>,
    ) -> Result<Account, ClientError> {
        let id = uuid::Uuid::now_v7().to_string();
        self.conn().execute(
            "INSERT INTO accounts (id, network, provider, handle, base_url, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, network.as_str(), provider, handle, base_url, now_ms()],
        )?;
        self.account(&id)?.ok_or(ClientError::NotFound("account"))
    }

    pub fn account(&self, id: &str) -> Result<Option<Account>, ClientError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, network, provider, handle, base_url, status FROM accounts WHERE id = ?1",
                [id],
                |r| {
                    let network: String = r.get(1)?;
                    Ok(Account {
                        id: r.get(0)?,
                        network: network.parse().map_err(|e| {
                            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
                        })?,
                        provider: r.get(2)?,
                        handle: r.get(3)?,
                        base_url: r.get(4)?,
                        status: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn accounts(&self) -> Result<Vec<Account>, ClientError> {
        let ids: Vec<String> = {
            let conn = self.conn();
            let mut stmt = conn.prepare("SELECT id FROM accounts ORDER BY created_at")?;
            let ids = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            ids
        };
        ids.iter()
            .filter_map(|id| self.account(id).transpose())
            .collect()
    }

    pub fn set_account_status(&self, id: &str, status: &str) -> Result<(), ClientError> {
        self.conn().execute(
            "UPDATE accounts SET status = ?1 WHERE id = ?2",
            params![status, id],
        )?;
        Ok(())
    }
}
