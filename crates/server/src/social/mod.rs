//! What the server does for the social accounts people connect on their devices (the devices
//! post themselves): the redirect page for networks that accept no loopback port
//! (`callback.rs`), and LinkedIn's code exchange, brokered because it needs the client secret
//! (`linkedin.rs`, its settings in `linkedin_settings.rs`).

pub mod callback;
pub mod linkedin;
pub mod linkedin_settings;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(linkedin::router())
        .merge(callback::router())
}
