//! The device engine: one data folder, one server, one person. The desktop app, a future
//! mobile app and the `relay` command line all drive this.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::api::{http_client, ServerApi};
use crate::error::ClientError;
use crate::images::ImageCache;
use crate::notify::{Notifier, Silent};
use crate::secrets::{KeyringStore, SecretStore};
use crate::social::Networks;
use crate::store::{ShareState, Store};

const SERVER_KEY: &str = "server.url";
const DEVICE_KEY: &str = "device.id";
const ME_KEY: &str = "device.me";
const SIGNED_OUT_KEY: &str = "device.signed_out";
const PAUSED_UNTIL_KEY: &str = "notifications.paused_until";

/// Where the device stands, for `relay status` and the app's header.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub server: Option<String>,
    pub device_id: Option<String>,
    pub person: Option<String>,
    pub organisation: Option<String>,
    pub signed_in: bool,
    /// Why the server signed the device out, when it did.
    pub signed_out_reason: Option<String>,
    pub synced: bool,
    pub items: u64,
    pub unread: u64,
    pub queued_shares: u64,
    pub failed_shares: u64,
}

/// The engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(crate) store: Store,
    pub(crate) secrets: Arc<dyn SecretStore>,
    pub(crate) http: reqwest::Client,
    pub(crate) networks: Networks,
    pub(crate) notifier: Arc<dyn Notifier>,
    pub(crate) images: ImageCache,
    pub(crate) page_size: u32,
    /// X's endpoints and Relay's client id there, where configured.
    pub(crate) x: Option<crate::social::x::XConfig>,
    /// LinkedIn's API (its address is configurable for tests).
    pub(crate) linkedin: crate::social::linkedin::LinkedInApi,
    data_dir: PathBuf,
}

impl Engine {
    /// Opens the engine on `data_dir` with secrets in `secrets`.
    pub fn open(data_dir: &Path, secrets: Arc<dyn SecretStore>) -> Result<Engine, ClientError> {
        let store = Store::open(&data_dir.join("relay.db"))?;
        let http = http_client();
        let images = ImageCache::new(
            data_dir.join("images"),
            store.clone(),
            http.clone(),
            100 * 1024 * 1024,
        );
        let x = crate::social::x::XConfig::from_env();
        let linkedin = crate::social::linkedin::LinkedInApi::from_env();
        Ok(Engine {
            store,
            secrets,
            networks: Networks::standard(http.clone(), x.as_ref(), &linkedin),
            x,
            linkedin,
            http,
            notifier: Arc::new(Silent),
            images,
            page_size: crate::sync::PAGE_SIZE,
            data_dir: data_dir.to_owned(),
        })
    }

    /// Opens the engine with secrets in the OS keychain, under a name of this data folder's own.
    pub fn open_with_keychain(data_dir: &Path) -> Result<Engine, ClientError> {
        Engine::open(
            data_dir,
            Arc::new(KeyringStore::new(Engine::keychain_service(data_dir))),
        )
    }

    /// The keychain service name of a data folder (one per installation).
    pub fn keychain_service(data_dir: &Path) -> String {
        let digest = Sha256::digest(data_dir.to_string_lossy().as_bytes());
        format!("relay-{digest:x}")[..18].to_owned()
    }

    /// The platform's data folder for Relay (`~/.local/share/relay` on Linux).
    pub fn default_data_dir() -> PathBuf {
        directories::ProjectDirs::from("dev", "Relay", "relay")
            .map(|d| d.data_dir().to_owned())
            .unwrap_or_else(|| PathBuf::from(".relay"))
    }

    pub fn with_notifier(mut self, notifier: Arc<dyn Notifier>) -> Engine {
        self.notifier = notifier;
        self
    }

    /// Feed entries asked per page (smaller pages: finer progress on slow links).
    pub fn with_page_size(mut self, page_size: u32) -> Engine {
        self.page_size = page_size.clamp(1, relay_protocol::SYNC_MAX_LIMIT);
        self
    }

    /// Connects X accounts through `config` (a registered client id, or a stub in tests).
    pub fn with_x(mut self, config: crate::social::x::XConfig) -> Engine {
        self.networks.register(
            crate::social::Provider::X,
            Arc::new(crate::social::x::X::new(self.http.clone(), config.clone())),
        );
        self.x = Some(config);
        self
    }

    /// Posts to LinkedIn's API at `api` (a stub in tests).
    pub fn with_linkedin(mut self, api: crate::social::linkedin::LinkedInApi) -> Engine {
        self.networks.register(
            crate::social::Provider::Linkedin,
            Arc::new(crate::social::linkedin::LinkedIn::new(
                self.http.clone(),
                api.clone(),
            )),
        );
        self.linkedin = api;
        self
    }

    pub fn with_networks(mut self, networks: Networks) -> Engine {
        self.networks = networks;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn images(&self) -> &ImageCache {
        &self.images
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn secrets(&self) -> &Arc<dyn SecretStore> {
        &self.secrets
    }

    /// The server this device is enrolled with, if any.
    pub fn server_url(&self) -> Result<Option<String>, ClientError> {
        self.store.setting(SERVER_KEY)
    }

    pub(crate) fn api(&self) -> Result<ServerApi, ClientError> {
        let server = self
            .store
            .setting(SERVER_KEY)?
            .ok_or(ClientError::NotEnrolled)?;
        self.server_api(&server)
    }

    /// Enrols this device with `server` using a one-time code. Starts from an empty cache (a
    /// different server or person would not share it); the outbox stays.
    pub async fn enrol(
        &self,
        server: &str,
        code: &str,
        device_name: &str,
    ) -> Result<Status, ClientError> {
        let api = self.server_api(server)?;
        let enrolled = api.enrol(code, device_name, std::env::consts::OS).await?;
        self.enrolled(api.base(), enrolled)
    }

    /// An API client of `server`, once its URL is checked.
    fn server_api(&self, server: &str) -> Result<ServerApi, ClientError> {
        let server = server.trim().trim_end_matches('/');
        let parsed = url::Url::parse(server)
            .map_err(|e| ClientError::Invalid(format!("the server URL is not valid: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ClientError::Invalid(
                "the server URL must start with https:// (or http:// on a test machine)".into(),
            ));
        }
        Ok(
            ServerApi::new(server, self.http.clone(), self.secrets.clone())
                .with_refresh_lock(&self.data_dir.join("session.lock")),
        )
    }

    /// Signs this device in with the company's identity provider: its sign-in page goes to
    /// `open` (the system browser), the answer comes back to a loopback port, and the server
    /// checks the ID token and opens a device session.
    pub async fn sign_in_with_company(
        &self,
        server: &str,
        device_name: &str,
        open: impl FnOnce(&str) -> Result<(), ClientError>,
        patience: std::time::Duration,
    ) -> Result<Status, ClientError> {
        let api = self.server_api(server)?;
        let provider = api.oidc_provider().await.map_err(|e| match e {
            ClientError::Server(p) if p.status == 404 => ClientError::Invalid(
                "this server has no company sign-in; use an enrolment code".into(),
            ),
            other => other,
        })?;
        let nonce = oauth2::CsrfToken::new_random().secret().clone();
        let endpoints = crate::oauth::Endpoints::sign_in_page_only(
            provider.authorization_endpoint,
            provider.client_id,
            provider.scopes,
            vec![("nonce".into(), nonce.clone())],
        );
        let authorization = crate::oauth::Authorization::start(&endpoints).await?;
        open(&authorization.url)?;
        let callback = authorization.callback(patience).await?;
        let enrolled = api
            .oidc_sign_in(&relay_protocol::OidcSignIn {
                code: callback.code.clone(),
                code_verifier: callback.code_verifier.clone(),
                redirect_uri: callback.redirect_uri.clone(),
                nonce,
                device_name: device_name.to_owned(),
                platform: std::env::consts::OS.to_owned(),
            })
            .await?;
        self.enrolled(api.base(), enrolled)
    }

    /// A new session: starts from an empty cache (a different server or person would not
    /// share it); the outbox stays.
    fn enrolled(
        &self,
        server: &str,
        enrolled: relay_protocol::EnrolResponse,
    ) -> Result<Status, ClientError> {
        self.store.clear_cache()?;
        self.store.set_setting(SERVER_KEY, server)?;
        self.store
            .set_setting(DEVICE_KEY, &enrolled.session.device_id)?;
        self.store.set_setting(
            ME_KEY,
            &serde_json::to_string(&(&enrolled.person, &enrolled.org))?,
        )?;
        self.store.remove_setting(SIGNED_OUT_KEY)?;
        self.status()
    }

    pub fn status(&self) -> Result<Status, ClientError> {
        // A keychain that fails to answer is an error, not "signed out": taken for one, it
        // would send the app to its sign-in screen and back, closing whatever was open.
        let signed_in = match self.api() {
            Ok(api) => api.has_session()?,
            Err(ClientError::NotEnrolled) => false,
            Err(e) => return Err(e),
        };
        self.status_with(signed_in)
    }

    /// The status as this device last knew it, without asking the keychain (a D-Bus round
    /// trip on Linux): signed in when it enrolled and the server has not signed it out since.
    /// The app paints its cached feed from this at launch and confirms with [`Engine::status`].
    pub fn status_local(&self) -> Result<Status, ClientError> {
        let signed_in = self.store.setting(DEVICE_KEY)?.is_some()
            && self.store.setting(SIGNED_OUT_KEY)?.is_none();
        self.status_with(signed_in)
    }

    fn status_with(&self, signed_in: bool) -> Result<Status, ClientError> {
        let me: Option<(relay_protocol::Person, relay_protocol::Org)> = self
            .store
            .setting(ME_KEY)?
            .and_then(|raw| serde_json::from_str(&raw).ok());
        Ok(Status {
            server: self.store.setting(SERVER_KEY)?,
            device_id: self.store.setting(DEVICE_KEY)?,
            person: me.as_ref().map(|(p, _)| p.name.clone()),
            organisation: me.as_ref().map(|(_, o)| o.name.clone()),
            signed_in,
            signed_out_reason: self.store.setting(SIGNED_OUT_KEY)?,
            synced: self.store.cursor()?.is_some(),
            items: self.store.item_count()?,
            unread: self.store.unread_count()?,
            queued_shares: self.store.count_shares(ShareState::Queued)?,
            failed_shares: self.store.count_shares(ShareState::Failed)?,
        })
    }

    /// The server ended this device's session: forget it and the content cache (the company
    /// took access back), keep the outbox and accounts (the person's own).
    pub(crate) fn signed_out(&self, reason: &str) -> Result<(), ClientError> {
        if let Ok(api) = self.api() {
            api.forget_session()?;
        }
        self.store.clear_cache()?;
        self.store.remove_setting(crate::programme::SUMMARY_KEY)?;
        self.store.set_setting(SIGNED_OUT_KEY, reason)?;
        tracing::warn!(reason, "the server signed this device out");
        Ok(())
    }

    /// Sign out on request: forget the session here. The outbox stays.
    pub fn sign_out(&self) -> Result<(), ClientError> {
        self.signed_out("signed out on this device")
    }

    /// Pauses new-content notifications until `until` (`None`: resume).
    pub fn pause_notifications(
        &self,
        until: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<(), ClientError> {
        match until {
            Some(t) => self
                .store
                .set_setting(PAUSED_UNTIL_KEY, &t.timestamp_millis().to_string()),
            None => self.store.remove_setting(PAUSED_UNTIL_KEY),
        }
    }

    /// Until when new-content notifications are paused (`None`: they are not).
    pub fn notifications_paused_until(
        &self,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, ClientError> {
        let until: Option<i64> = self
            .store
            .setting(PAUSED_UNTIL_KEY)?
            .and_then(|v| v.parse().ok());
        Ok(until
            .filter(|u| *u > crate::store::now_ms())
            .and_then(chrono::DateTime::from_timestamp_millis))
    }

    pub(crate) fn notifications_paused(&self) -> Result<bool, ClientError> {
        Ok(self.notifications_paused_until()?.is_some())
    }

    /// Maps "the server says this session is over" to a clean local sign-out.
    pub(crate) fn check<T>(&self, result: Result<T, ClientError>) -> Result<T, ClientError> {
        if let Err(ClientError::SignedOut(reason)) = &result {
            self.signed_out(reason)?;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A keychain that cannot be reached (its daemon not answering).
    struct Unreachable;

    impl SecretStore for Unreachable {
        fn get(&self, _: &str) -> Result<Option<String>, ClientError> {
            Err(ClientError::Keychain(
                "no answer from the Secret Service".into(),
            ))
        }
        fn set(&self, _: &str, _: &str) -> Result<(), ClientError> {
            Err(ClientError::Keychain(
                "no answer from the Secret Service".into(),
            ))
        }
        fn delete(&self, _: &str) -> Result<(), ClientError> {
            Err(ClientError::Keychain(
                "no answer from the Secret Service".into(),
            ))
        }
    }

    #[test]
    fn a_keychain_that_does_not_answer_is_an_error_not_a_sign_out() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path(), Arc::new(Unreachable)).unwrap();
        // Not enrolled: simply not signed in.
        assert!(!engine.status().unwrap().signed_in);
        engine
            .store
            .set_setting(SERVER_KEY, "https://relay.example.com")
            .unwrap();
        assert!(matches!(engine.status(), Err(ClientError::Keychain(_))));
    }
}
