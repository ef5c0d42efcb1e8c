//! Connecting and disconnecting social accounts. Credentials go to the keychain only; the
//! local database keeps which network, which handle and where.

use std::time::Duration;

use relay_protocol::Network;

use crate::engine::Engine;
use crate::error::ClientError;
use crate::oauth::Authorization;
use crate::social::{bluesky, linkedin, mastodon, x, Credentials, Provider};
use crate::store::{Account, AccountStatus};

impl Engine {
    /// Signs in to Bluesky with a handle (or e-mail) and an app password at `service` (the
    /// hosting service; [`bluesky::DEFAULT_SERVICE`] when empty). Connecting an account that is
    /// already here reconnects it: its waiting shares go out again.
    pub async fn connect_bluesky(
        &self,
        service: &str,
        identifier: &str,
        app_password: &str,
    ) -> Result<Account, ClientError> {
        let service = match service.trim() {
            "" => bluesky::DEFAULT_SERVICE.to_owned(),
            s if s.contains("://") => s.to_owned(),
            s => format!("https://{s}"),
        };
        if identifier.trim().is_empty() || app_password.is_empty() {
            return Err(ClientError::Invalid(
                "enter your Bluesky handle and an app password".into(),
            ));
        }
        let session = bluesky::sign_in(&self.http, &service, identifier, app_password)
            .await
            .map_err(|e| ClientError::Invalid(e.to_string()))?;
        let secret = serde_json::to_string(&session)?;
        self.save_account(
            Network::Bluesky,
            Provider::Bluesky,
            &session.handle,
            &session.pds,
            &secret,
        )
    }

    /// Connects a Mastodon account on `instance` (a server name, URL or full handle): registers
    /// Relay there for this sign-in, hands the authorization page to `open` (the system
    /// browser), and waits up to `patience` for the person to come back.
    pub async fn connect_mastodon(
        &self,
        instance: &str,
        open: impl FnOnce(&str) -> Result<(), ClientError>,
        patience: Duration,
    ) -> Result<Account, ClientError> {
        let instance = mastodon::instance_url(instance).map_err(ClientError::Invalid)?;
        let (authorization, mut secret) = mastodon::start(&self.http, &instance)
            .await
            .map_err(|e| ClientError::Invalid(format!("{instance}: {e}")))?;
        open(&authorization.url)?;
        secret.tokens = authorization.finish(patience).await?;
        let handle = mastodon::handle(&self.http, &secret).await?;
        let account = self.save_account(
            Network::Mastodon,
            Provider::Mastodon,
            &handle,
            &instance,
            &serde_json::to_string(&secret)?,
        )?;
        // The composer counts against this server's own limit (many allow more than 500).
        let limit = mastodon::instance_limit(&self.http, &instance).await;
        self.store().set_account_char_limit(&account.id, limit)?;
        Ok(Account {
            char_limit: limit,
            ..account
        })
    }

    /// Connects a LinkedIn account: the sign-in page (Relay's LinkedIn app, as the server
    /// names it) goes to `open`, the code comes back to a loopback port, and the server
    /// exchanges it with the client secret it alone holds, passing the token through.
    pub async fn connect_linkedin(
        &self,
        open: impl FnOnce(&str) -> Result<(), ClientError>,
        patience: Duration,
    ) -> Result<Account, ClientError> {
        let api = self.check(self.api())?;
        let app = self.check(api.linkedin_app().await).map_err(|e| match e {
            ClientError::Server(p) if p.status == 404 => {
                ClientError::Invalid("your company has not set up LinkedIn for Relay".into())
            }
            other => other,
        })?;
        let endpoints = crate::oauth::Endpoints::sign_in_page_only(
            app.authorize_url,
            app.client_id,
            app.scopes,
            vec![],
        );
        // LinkedIn accepts only registered redirect URLs: the server's page forwards the
        // browser to this device.
        let authorization = Authorization::start_relayed(&endpoints, &app.redirect_uri).await?;
        open(&authorization.url)?;
        let callback = authorization.callback(patience).await?;
        let tokens = self.check(
            api.linkedin_token(&relay_protocol::LinkedInCode {
                code: callback.code.clone(),
                redirect_uri: callback.redirect_uri.clone(),
                code_verifier: Some(callback.code_verifier.clone()),
            })
            .await,
        )?;
        let linkedin_api = self.linkedin.clone();
        let (author, name) =
            linkedin::member(&self.http, &linkedin_api, &tokens.access_token).await?;
        let secret = linkedin::LinkedInSecret {
            author,
            access_token: tokens.access_token,
            expires_at: Some(chrono::Utc::now() + chrono::Duration::seconds(tokens.expires_in)),
        };
        self.save_account(
            Network::Linkedin,
            Provider::Linkedin,
            &name,
            &linkedin_api.base,
            &serde_json::to_string(&secret)?,
        )
    }

    /// Whether the company's server offers LinkedIn (it holds Relay's LinkedIn app).
    pub async fn linkedin_available(&self) -> bool {
        match self.api() {
            Ok(api) => api.linkedin_app().await.is_ok(),
            Err(_) => false,
        }
    }

    /// Whether X accounts can be connected here (a client id is configured).
    pub fn x_available(&self) -> bool {
        self.x.is_some()
    }

    /// Starts connecting an X account: open [`Authorization::url`] in the system browser, then
    /// call [`Engine::connect_x_finish`].
    pub async fn connect_x_start(&self) -> Result<Authorization, ClientError> {
        let config = self.x.as_ref().ok_or_else(|| {
            ClientError::Invalid("X is not set up for this installation (no client id)".into())
        })?;
        // X accepts only registered callback URLs: the company server's forwarder (registered
        // with Relay's X app) brings the browser back to this device's loopback.
        let started = match self.server_url()? {
            Some(server) => {
                Authorization::start_relayed(&config.oauth, &format!("{server}/v1/oauth/callback"))
                    .await
            }
            None => Authorization::start(&config.oauth).await,
        };
        Ok(started?)
    }

    /// Waits (up to `patience`) for the browser to come back, exchanges the code and records
    /// the account.
    pub async fn connect_x_finish(
        &self,
        authorization: Authorization,
        patience: Duration,
    ) -> Result<Account, ClientError> {
        let config = self
            .x
            .as_ref()
            .ok_or_else(|| ClientError::Invalid("X is not set up".into()))?;
        let tokens = authorization.finish(patience).await?;
        let (user_id, username) = x::me(&self.http, config, &tokens).await?;
        let secret = serde_json::to_string(&x::XSecret {
            user_id,
            username: username.clone(),
            tokens,
        })?;
        self.save_account(
            Network::X,
            Provider::X,
            &format!("@{username}"),
            &config.api,
            &secret,
        )
    }

    /// Records a connected account (or refreshes a known one) and keeps its secret.
    pub(crate) fn save_account(
        &self,
        network: Network,
        provider: Provider,
        handle: &str,
        base_url: &str,
        secret: &str,
    ) -> Result<Account, ClientError> {
        let account = match self.store.account_by_handle(network, handle)? {
            Some(known) => {
                self.store.set_account_base_url(&known.id, Some(base_url))?;
                self.store
                    .set_account_status(&known.id, AccountStatus::Connected)?;
                known
            }
            None => self
                .store
                .add_account(network, provider, handle, Some(base_url))?,
        };
        Credentials::new(self.secrets.clone(), &account.id)
            .set(secret)
            .map_err(|e| ClientError::Keychain(e.to_string()))?;
        // Shares that waited for this account may go now.
        self.store.release_account(&account.id)?;
        self.store
            .account(&account.id)?
            .ok_or(ClientError::NotFound("account"))
    }

    /// Disconnects an account: revokes its tokens at the network where it allows that,
    /// deletes them from the keychain and forgets the account. Its unsent shares fail with a
    /// reason (the person sees what did not go out).
    pub async fn disconnect(&self, account_id: &str) -> Result<(), ClientError> {
        let account = self
            .store
            .account(account_id)?
            .ok_or(ClientError::NotFound("account"))?;
        let credentials = Credentials::new(self.secrets.clone(), &account.id);
        if let Some(network) = self.networks.get(account.provider) {
            if let Err(e) = network.revoke(&account, &credentials).await {
                tracing::info!(network = %account.network, error = %e, "could not revoke the tokens; deleting them here");
            }
        }
        credentials.delete()?;
        self.store.remove_account(&account.id)?;
        self.store
            .fail_unsent_of(&account.id, "the account was disconnected")?;
        Ok(())
    }
}
