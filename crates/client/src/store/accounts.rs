//! Connected social accounts: which network, which handle, which implementation. Their tokens
//! are in the keychain, under the account id.

use relay_protocol::Network;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::{now_ms, Store};
use crate::error::ClientError;
use crate::social::Provider;

/// Whether an account can post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    Connected,
    /// Its token expired or was revoked: its shares wait until the person reconnects it.
    Reconnect,
}

impl std::fmt::Display for AccountStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Connected => "connected",
            AccountStatus::Reconnect => "reconnect",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account {
    pub id: String,
    pub network: Network,
    /// Which `SocialNetwork` implementation posts for it.
    pub provider: Provider,
    pub handle: String,
    pub base_url: Option<String>,
    pub status: AccountStatus,
    /// The account's own character limit where its server sets one (Mastodon's
    /// `max_characters`); otherwise the network's.
    pub char_limit: Option<u32>,
}

impl Store {
    pub fn add_account(
        &self,
        network: Network,
        provider: Provider,
        handle: &str,
        base_url: Option<&str>,
    ) -> Result<Account, ClientError> {
        let id = uuid::Uuid::now_v7().to_string();
        self.conn().execute(
            "INSERT INTO accounts (id, network, provider, handle, base_url, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, network.as_str(), provider.as_str(), handle, base_url, now_ms()],
        )?;
        self.account(&id)?.ok_or(ClientError::NotFound("account"))
    }

    pub fn account(&self, id: &str) -> Result<Option<Account>, ClientError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, network, provider, handle, base_url, status, char_limit FROM accounts WHERE id = ?1",
                [id],
                |r| {
                    let text = |i: usize, e: String| {
                        rusqlite::Error::FromSqlConversionFailure(
                            i,
                            rusqlite::types::Type::Text,
                            e.into(),
                        )
                    };
                    let network: String = r.get(1)?;
                    let provider: String = r.get(2)?;
                    let status: String = r.get(5)?;
                    Ok(Account {
                        id: r.get(0)?,
                        network: network.parse().map_err(|e| text(1, format!("{e}")))?,
                        provider: provider.parse().map_err(|e| text(2, e))?,
                        handle: r.get(3)?,
                        base_url: r.get(4)?,
                        status: if status == "reconnect" {
                            AccountStatus::Reconnect
                        } else {
                            AccountStatus::Connected
                        },
                        char_limit: r.get(6)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn accounts(&self) -> Result<Vec<Account>, ClientError> {
        let ids: Vec<String> = {
            let conn = self.read_conn();
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

    pub fn set_account_status(&self, id: &str, status: AccountStatus) -> Result<(), ClientError> {
        self.conn().execute(
            "UPDATE accounts SET status = ?1 WHERE id = ?2",
            params![status.as_str(), id],
        )?;
        Ok(())
    }

    /// The account of this network and handle, if connected already (reconnecting updates it).
    pub fn account_by_handle(
        &self,
        network: Network,
        handle: &str,
    ) -> Result<Option<Account>, ClientError> {
        let id: Option<String> = self
            .conn()
            .query_row(
                "SELECT id FROM accounts WHERE network = ?1 AND lower(handle) = lower(?2)",
                params![network.as_str(), handle],
                |r| r.get(0),
            )
            .optional()?;
        match id {
            Some(id) => self.account(&id),
            None => Ok(None),
        }
    }

    pub fn set_account_base_url(
        &self,
        id: &str,
        base_url: Option<&str>,
    ) -> Result<(), ClientError> {
        self.conn().execute(
            "UPDATE accounts SET base_url = ?1 WHERE id = ?2",
            params![base_url, id],
        )?;
        Ok(())
    }

    pub fn set_account_char_limit(&self, id: &str, limit: Option<u32>) -> Result<(), ClientError> {
        self.conn().execute(
            "UPDATE accounts SET char_limit = ?1 WHERE id = ?2",
            params![limit, id],
        )?;
        Ok(())
    }

    pub fn remove_account(&self, id: &str) -> Result<(), ClientError> {
        self.conn()
            .execute("DELETE FROM accounts WHERE id = ?1", [id])?;
        Ok(())
    }
}
