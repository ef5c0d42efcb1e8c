//! The Accounts screen's commands and share intents. Passwords and tokens pass straight to the
//! engine, which keeps them in the keychain; none is returned, logged or put in an error.

use chrono::Utc;
use relay_client::social::intent;
use relay_protocol::Network;
use tauri::{AppHandle, State};

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::views::{AccountView, NetworkKind, ShareView};

/// Connected accounts, in the order they were connected.
#[tauri::command(async)]
#[specta::specta]
pub fn accounts(state: State<'_, AppState>) -> AppResult<Vec<AccountView>> {
    Ok(state
        .engine
        .store()
        .accounts()?
        .iter()
        .map(AccountView::from)
        .collect())
}

/// Connects (or reconnects) a Bluesky account with a handle and an app password at `service`
/// (empty: bsky.social).
#[tauri::command]
#[specta::specta]
pub async fn connect_bluesky(
    app: AppHandle,
    state: State<'_, AppState>,
    service: String,
    handle: String,
    app_password: String,
) -> AppResult<AccountView> {
    let account = state
        .engine
        .connect_bluesky(&service, &handle, &app_password)
        .await?;
    // Shares that waited for this account can go now.
    Ok(connected(&app, &account))
}

/// Networks whose accounts can be connected here (X needs this installation's client id).
/// LinkedIn where the company's server holds Relay's LinkedIn app.
#[tauri::command]
#[specta::specta]
pub async fn connectable_networks(state: State<'_, AppState>) -> AppResult<Vec<NetworkKind>> {
    let mut networks = vec![NetworkKind::Bluesky, NetworkKind::Mastodon];
    if state.engine.x_available() {
        networks.push(NetworkKind::X);
    }
    if state.engine.linkedin_available().await {
        networks.push(NetworkKind::Linkedin);
    }
    Ok(networks)
}

/// Connects a LinkedIn account: LinkedIn's sign-in opens in the browser; the company's server
/// exchanges the code (it holds Relay's client secret) and passes the token back.
#[tauri::command]
#[specta::specta]
pub async fn connect_linkedin(
    app: AppHandle,
    state: State<'_, AppState>,
) -> AppResult<AccountView> {
    let account = state
        .engine
        .connect_linkedin(crate::guard::browser(&app), crate::guard::SIGN_IN_PATIENCE)
        .await?;
    Ok(connected(&app, &account))
}

/// Connects an X account: X's authorization page opens in the browser, and the answer comes
/// back to a loopback port (RFC 8252). Waits up to five minutes for the person.
#[tauri::command]
#[specta::specta]
pub async fn connect_x(app: AppHandle, state: State<'_, AppState>) -> AppResult<AccountView> {
    let authorization = state.engine.connect_x_start().await?;
    crate::guard::open_external(&app, &authorization.url)?;
    let account = state
        .engine
        .connect_x_finish(authorization, crate::guard::SIGN_IN_PATIENCE)
        .await?;
    Ok(connected(&app, &account))
}

/// Connects a Mastodon account on `instance` (server name, URL or full handle): Relay registers
/// itself there, the sign-in page opens in the browser, and the answer comes back to a loopback
/// port. Waits up to five minutes for the person.
#[tauri::command]
#[specta::specta]
pub async fn connect_mastodon(
    app: AppHandle,
    state: State<'_, AppState>,
    instance: String,
) -> AppResult<AccountView> {
    let account = state
        .engine
        .connect_mastodon(
            &instance,
            crate::guard::browser(&app),
            crate::guard::SIGN_IN_PATIENCE,
        )
        .await?;
    Ok(connected(&app, &account))
}

/// Disconnects an account: its tokens are revoked where the network allows and deleted.
#[tauri::command]
#[specta::specta]
pub async fn disconnect_account(
    app: AppHandle,
    state: State<'_, AppState>,
    id: String,
) -> AppResult<()> {
    state.engine.disconnect(&id).await?;
    crate::commands::shares_changed(&app);
    Ok(())
}

/// Networks the composer offers through their own share page: Facebook always (it has no API
/// for personal profiles), and others that have a share page but no connected account.
#[tauri::command(async)]
#[specta::specta]
pub fn intent_networks(state: State<'_, AppState>) -> AppResult<Vec<NetworkKind>> {
    let connected: Vec<Network> = state
        .engine
        .store()
        .accounts()?
        .iter()
        .map(|a| a.network)
        .collect();
    Ok(Network::ALL
        .iter()
        .filter(|n| **n == Network::Facebook || !connected.contains(n))
        .filter(|n| intent::url(**n, "", "https://relay.invalid/").is_some())
        .map(|n| NetworkKind::from(*n))
        .collect())
}

/// Opens the network's share page for an item in the browser.
#[tauri::command(async)]
#[specta::specta]
pub fn open_share_intent(
    app: AppHandle,
    state: State<'_, AppState>,
    item_id: String,
    network: NetworkKind,
    text: String,
) -> AppResult<()> {
    let item = state
        .engine
        .store()
        .item(&item_id)?
        .ok_or_else(|| AppError::invalid("this item is no longer available"))?;
    let url = intent::url(network.into(), text.trim(), &item.item.url)
        .ok_or_else(|| AppError::invalid("this network has no share page"))?;
    crate::guard::open_external(&app, &url)
}

/// The person says they posted it on the network's page: recorded like any share.
#[tauri::command(async)]
#[specta::specta]
pub fn confirm_shared(
    app: AppHandle,
    state: State<'_, AppState>,
    item_id: String,
    network: NetworkKind,
    text: String,
) -> AppResult<ShareView> {
    let share = state
        .engine
        .store()
        .record_shared_elsewhere(&item_id, network.into(), &text)?;
    crate::commands::shares_changed(&app);
    // Sends the record to the server (now, or when it is back).
    crate::live::sync_now(&app);
    Ok(ShareView::new(&share, Utc::now()))
}

/// A connected (or reconnected) account: its waiting shares may go now.
fn connected(app: &AppHandle, account: &relay_client::store::Account) -> AccountView {
    crate::commands::shares_changed(app);
    crate::live::sync_now(app);
    AccountView::from(account)
}
