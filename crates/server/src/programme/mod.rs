//! The monthly programme: points for verified and declared shares (the ledger), per-month rules,
//! the organisation's calendar, the opt-in leaderboard, team boards and the top ten.

pub mod board;
pub mod calendar;
pub mod cli;
pub mod draw;
pub mod ledger;
pub mod recheck;
pub mod rules;
pub mod rules_cache;
pub mod settings;
pub mod summary;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(rules::get_rules, rules::put_rules))
        .routes(routes!(board::routes::leaderboard))
        .routes(routes!(board::routes::join, board::routes::leave))
        .routes(routes!(board::routes::teams))
        .routes(routes!(board::routes::top_ten))
        .routes(routes!(board::routes::me))
        .routes(routes!(summary::summary))
        .routes(routes!(settings::get_settings, settings::put_settings))
        .routes(routes!(draw::routes::get_draw, draw::routes::put_setup))
        .routes(routes!(draw::routes::commit))
        .routes(routes!(draw::routes::participation))
        .routes(routes!(draw::routes::draw))
        .routes(routes!(recheck::to_recheck))
        .routes(routes!(recheck::withdraw))
}
