//! Read reports are counted once per device and day, only for items offered to the person, and
//! kept as aggregates: no table says who read what.

use chrono::{Duration, Utc};
use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::{Method, StatusCode};

use crate::harness::*;
use crate::newsroom::*;

crate::both_backends!(reads_are_counted_once_as_aggregates);

async fn reads_are_counted_once_as_aggregates(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let eve = room.employee("Eve Employee", "FR", "Sales").await;
    let item = room.item("Story").await;
    let mut german = article(&room.news, "For Germany");
    german.audience.countries = vec!["DE".into()];
    let german = room.admin.publish(&german).await.item.id;
    let yesterday = (Utc::now() - Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();

    let report = ReadReport {
        day: yesterday.clone(),
        items: vec![item.clone(), item.clone(), german, "no-such-item".into()],
    };
    let counted: ReadsCounted = eve.send_ok(Method::POST, "/v1/reads", Some(&report)).await;
    assert_eq!((counted.counted, counted.repeated), (1, false));
    // The answer was lost; the device sends again: nothing counted twice.
    let again: ReadsCounted = eve.send_ok(Method::POST, "/v1/reads", Some(&report)).await;
    assert!(again.repeated);
    // Another device of another person reads it too.
    let sam = room.employee("Sam Sharer", "FR", "Sales").await;
    sam.send_ok::<_, ReadsCounted>(Method::POST, "/v1/reads", Some(&report))
        .await;
    let reads: i64 = sqlx::query_scalar("SELECT reads FROM item_reads WHERE item_id = $1")
        .bind(&item)
        .fetch_one(&room.server.db().read)
        .await
        .unwrap();
    assert_eq!(reads, 2);
    assert_eq!(room.count("consults").await, 2);
    // Nothing ties a person to an item.
    for table in ["item_reads", "consults", "read_batches"] {
        let sql = match backend {
            Backend::Sqlite => format!("SELECT name FROM pragma_table_info('{table}')"),
            Backend::Postgres => format!(
                "SELECT column_name::text FROM information_schema.columns WHERE table_name = '{table}'"
            ),
        };
        let columns: Vec<String> = sqlx::query_scalar(&sql)
            .fetch_all(&room.server.db().read)
            .await
            .unwrap();
        assert!(!columns.is_empty(), "{table}");
        let person = columns.iter().any(|c| c == "person_id" || c == "device_id");
        let what = columns.iter().any(|c| c == "item_id");
        assert!(
            !(person && what),
            "{table} links people to items: {columns:?}"
        );
    }
    // Today is reported tomorrow; a malformed day, an array, too many items are refused.
    let today = Utc::now().format("%Y-%m-%d").to_string();
    for body in [
        serde_json::json!({"day": today, "items": []}),
        serde_json::json!({"day": "2026-02-30", "items": []}),
        serde_json::json!([yesterday, [item]]),
        serde_json::json!({"day": yesterday, "items": vec!["x"; 1001]}),
    ] {
        let answer = eve.send(Method::POST, "/v1/reads", Some(&body)).await;
        assert!(answer.status.is_client_error(), "{body}: {answer:?}");
    }
    let answer = room
        .server
        .anonymous()
        .send(Method::POST, "/v1/reads", Some(&report))
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}
