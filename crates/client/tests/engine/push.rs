//! Push, the device's side: the pause set on one device reaches the server (so it holds on
//! the person's phone), even when set offline; the device's push channel is registered, and
//! removed on request.

use relay_protocol::PushChannel;
use sqlx::Row;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pause_and_the_push_channel_reach_the_server_even_when_set_offline() {
    let mut server = TestServer::start().await;
    let (engine, _dir, _secrets) = synced_device(&server).await;
    let device_id = engine.status().unwrap().device_id.unwrap();
    let person_of_device = |state: &relay_server::AppState| {
        let db = state.db.read.clone();
        let device = device_id.clone();
        async move {
            sqlx::query(
                "SELECT p.push_paused_until, c.kind, c.address FROM sessions s \
                 JOIN people p ON p.id = s.person_id \
                 LEFT JOIN push_channels c ON c.device_id = s.device_id WHERE s.device_id = $1",
            )
            .bind(device)
            .fetch_one(&db)
            .await
            .map(|row| {
                (
                    row.try_get::<Option<i64>, _>("push_paused_until").unwrap(),
                    row.try_get::<Option<String>, _>("address").unwrap(),
                )
            })
            .unwrap()
        }
    };
    assert_eq!(person_of_device(server.state()).await, (None, None));

    // Offline: the pause holds here at once and waits to be told.
    server.down().await;
    let until = chrono::Utc::now() + chrono::Duration::hours(1);
    engine.pause_everywhere(Some(until)).await.unwrap();
    assert!(engine.notifications_paused_until().unwrap().is_some());
    let subscription = PushChannel::WebPush {
        endpoint: "http://127.0.0.1:9/push/this-device".into(),
        // A P-256 point and a 16-byte secret, as a browser gives them.
        p256dh: "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
            .into(),
        auth: "BTBZMqHH6r4Tts7J_aSIgg".into(),
    };
    assert!(engine.set_push_channel(Some(subscription)).await.is_err());

    // Back online: the live loop's report tells both, once.
    server.up().await;
    assert!(engine.report_push().await.unwrap());
    assert!(!engine.report_push().await.unwrap(), "nothing new to tell");
    let (paused, address) = person_of_device(server.state()).await;
    assert_eq!(paused, Some(until.timestamp_millis()));
    assert_eq!(
        address.as_deref(),
        Some("http://127.0.0.1:9/push/this-device")
    );

    // Resumed and unsubscribed, online: told at once.
    engine.pause_everywhere(None).await.unwrap();
    engine.set_push_channel(None).await.unwrap();
    assert_eq!(person_of_device(server.state()).await, (None, None));
}
