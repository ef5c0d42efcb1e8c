//! Integration tests of relay-server over real HTTP, each on SQLite and on PostgreSQL.

mod harness;
#[allow(dead_code)]
#[path = "../../../client/tests/engine/pds.rs"]
mod pds;
mod replica;
#[allow(dead_code)]
#[path = "../../../client/tests/engine/sweep.rs"]
mod sweep;

/// What the shared `pds.rs` needs of the engine tests' peers.
#[allow(dead_code)]
mod peers {
    pub async fn serve(app: axum::Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    /// A request's bearer token ("" when it has none).
    pub fn bearer(headers: &axum::http::HeaderMap) -> &str {
        headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default()
    }
}

#[allow(dead_code)]
#[path = "../../../client/tests/engine/mastodon_stub.rs"]
mod mastodon_stub;

mod adversary;
mod analytics;
mod boards;
mod cli;
mod concurrency;
mod confirm;
mod console;
mod curation;
mod draw;
mod events;
mod feeds;
mod isolation;
mod linkedin;
mod links;
mod malformed;
mod newsroom;
mod people;
mod people_import;
mod personal;
mod programme;
mod push;
mod push_peers;
mod reads;
mod sessions;
mod shares;
mod sources;
mod sync;
