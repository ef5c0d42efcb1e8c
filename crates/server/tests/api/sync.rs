//! The change feed as a device sees it: first sync, empty sync, incremental changes, audience
//! targeting, resets, scheduled publication and expiry.

use chrono::Utc;
use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::Method;

use crate::harness::*;
use crate::replica::*;

crate::both_backends!(
    a_device_back_after_the_tombstone_purge_rebuilds_its_cache,
    first_sync_pages_through_the_demo_then_nothing_is_new,
    approvals_edits_and_retractions_reach_devices_once,
    audience_decides_who_receives_what,
    a_changed_audience_or_a_foreign_cursor_resets_the_cache,
    scheduled_content_appears_at_its_time_and_leaves_at_expiry,
);

async fn first_sync_pages_through_the_demo_then_nothing_is_new(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let enrolment = relay_server::demo::ensure(server.state()).await.unwrap();
    let employee = server.anonymous();
    let enrolled: EnrolResponse = employee
        .send_ok(
            Method::POST,
            "/v1/enrol",
            Some(&EnrolRequest {
                code: enrolment.code,
                device_name: "Alex's laptop".into(),
                platform: "linux".into(),
            }),
        )
        .await;
    assert_eq!(enrolled.person.email, relay_server::demo::DEMO_EMAIL);
    let mut alex = server.anonymous();
    alex.token = Some(enrolled.session.access_token.clone());

    // Page by page, as a device with a progress bar would.
    let first = alex.sync_page(None, 7).await;
    assert!(!first.reset);
    assert!(first.has_more);
    assert!(first.changes.len() <= 7);
    let channels = first
        .channels
        .clone()
        .expect("a first sync carries the channels");
    assert_eq!(channels.len(), 5);
    assert!(channels.iter().any(|c| c.names["fr"] == "Carrières"));
    // 60 published demo items (30 stories in two languages), 7 of them in this page.
    assert_eq!(
        first.remaining,
        Some(60 - 7),
        "progress: feed entries still to come"
    );

    let mut replica = Replica::default();
    replica.apply(first);
    let pages = 1 + replica.sync(&alex, 7).await;
    assert_eq!(pages, 9, "60 entries in pages of 7");
    // Alex reads English: 30 English stories, no French ones, no draft.
    assert_eq!(replica.items.len(), 30);
    assert!(replica.items.values().all(|i| i.language == "en"));
    assert!(!replica.titles().iter().any(|t| t.starts_with("Draft")));
    assert_eq!(replica.seen.len(), 30, "no item sent twice");

    // Nothing new: an empty page with the same cursor.
    let cursor = replica.cursor.clone().unwrap();
    let again = alex.sync_page(Some(&cursor), 7).await;
    assert!(again.changes.is_empty() && !again.has_more && !again.reset);
    assert_eq!(again.cursor, cursor);
    assert!(again.channels.is_none());

    // A French reader gets the French edition.
    let org = relay_server::orgs::by_slug(server.db(), relay_server::demo::DEMO_ORG)
        .await
        .unwrap();
    let camille =
        relay_server::people::find_by_email(server.db(), &org.id, "camille.durand@contoso.example")
            .await
            .unwrap();
    let camille = server.enrol(&org, &camille.id).await;
    let mut french = Replica::default();
    french.sync(&camille, 500).await;
    assert_eq!(french.items.len(), 30);
    assert!(french
        .titles()
        .iter()
        .any(|t| t.contains("Journée de la femme")));
}

async fn approvals_edits_and_retractions_reach_devices_once(backend: Backend) {
    let acme = Acme::new(backend).await;
    let Acme {
        news,
        curator,
        employee,
        ..
    } = &acme;

    let mut replica = Replica::default();
    replica.sync(employee, 100).await;
    assert!(replica.items.is_empty());

    // A draft is not news.
    let draft = curator
        .create_content(&article(news, "Quarterly results"))
        .await;
    replica.sync(employee, 100).await;
    assert!(replica.items.is_empty(), "drafts never reach employees");

    let approved = curator.approve(&draft.item.id).await;
    assert!(approved.live);
    let before = replica.seen.len();
    replica.sync(employee, 100).await;
    assert_eq!(replica.titles(), vec!["Quarterly results"]);
    assert_eq!(replica.seen.len(), before + 1);

    // An edit arrives as a newer revision.
    let edited: CuratedContent = curator
        .send_ok(
            Method::PATCH,
            &format!("/v1/content/{}", draft.item.id),
            Some(&ContentUpdate {
                title: Some("Quarterly results: up 21%".into()),
                ..Default::default()
            }),
        )
        .await;
    assert_eq!(
        edited.state,
        ContentState::Approved,
        "an edit keeps approval"
    );
    replica.sync(employee, 100).await;
    let item = &replica.items[&draft.item.id];
    assert_eq!(item.title, "Quarterly results: up 21%");
    assert!(item.version > approved.item.version);

    // A retraction removes it, with the curators' reason.
    curator
        .send_ok::<_, CuratedContent>(
            Method::POST,
            &format!("/v1/content/{}/retract", draft.item.id),
            Some(&RetractRequest {
                reason: "Figures were wrong".into(),
            }),
        )
        .await;
    let page = employee.sync_page(replica.cursor.as_deref(), 100).await;
    assert_eq!(
        page.changes,
        vec![Change::Delete {
            id: draft.item.id.clone(),
            version: page
                .changes
                .first()
                .map(|c| match c {
                    Change::Delete { version, .. } => *version,
                    _ => 0,
                })
                .unwrap(),
            cause: RemovalCause::Retracted,
            reason: Some("Figures were wrong".into()),
        }]
    );
    replica.apply(page);
    assert!(replica.items.is_empty());

    // Every change was sent once, in version order.
    let versions: Vec<i64> = replica.seen.iter().map(|(_, v)| *v).collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");

    // A new device starting from scratch never hears of the retracted item.
    let fresh = employee.sync_page(None, 100).await;
    assert!(fresh.changes.is_empty());
}

async fn audience_decides_who_receives_what(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let org = server.org("acme").await;
    let news = server.channel(&org, "news").await;
    let curator = server
        .person(&org, "Cora Curator", Role::Curator, "FR", "fr", "Comms")
        .await;
    let paris_sales = server
        .person(&org, "Paul Sales", Role::Employee, "FR", "fr", "Sales")
        .await;
    let berlin_eng = server
        .person(
            &org,
            "Bea Engineer",
            Role::Employee,
            "DE",
            "de",
            "Engineering",
        )
        .await;

    let mut for_germany = article(&news, "Berlin office party");
    for_germany.audience.countries = vec!["de".into()];
    let berlin = curator.publish(&for_germany).await;
    let mut for_sales = article(&news, "Sales kick-off");
    for_sales.audience.departments = vec!["Sales".into()];
    curator.publish(&for_sales).await;
    let mut french_speakers = article(&news, "Nouvelles du siège");
    french_speakers.audience.languages = vec!["fr".into()];
    curator.publish(&french_speakers).await;
    curator.publish(&article(&news, "Company picnic")).await;

    let mut paul = Replica::default();
    paul.sync(&paris_sales, 100).await;
    assert_eq!(
        paul.titles(),
        vec!["Company picnic", "Nouvelles du siège", "Sales kick-off"]
    );
    let mut bea = Replica::default();
    bea.sync(&berlin_eng, 100).await;
    assert_eq!(bea.titles(), vec!["Berlin office party", "Company picnic"]);

    // Widening an audience brings the item to new people; narrowing it takes it away.
    curator
        .send_ok::<_, CuratedContent>(
            Method::PATCH,
            &format!("/v1/content/{}", berlin.item.id),
            Some(&ContentUpdate {
                audience: Some(Audience {
                    countries: vec!["FR".into(), "DE".into()],
                    ..Default::default()
                }),
                ..Default::default()
            }),
        )
        .await;
    paul.sync(&paris_sales, 100).await;
    assert!(paul.titles().contains(&"Berlin office party".to_owned()));
    curator
        .send_ok::<_, CuratedContent>(
            Method::PATCH,
            &format!("/v1/content/{}", berlin.item.id),
            Some(&ContentUpdate {
                audience: Some(Audience {
                    countries: vec!["DE".into()],
                    ..Default::default()
                }),
                ..Default::default()
            }),
        )
        .await;
    let page = paris_sales.sync_page(paul.cursor.as_deref(), 100).await;
    assert!(
        matches!(
            page.changes.as_slice(),
            [Change::Delete {
                cause: RemovalCause::NotInAudience,
                ..
            }]
        ),
        "{page:?}"
    );
    paul.apply(page);
    assert!(!paul.titles().contains(&"Berlin office party".to_owned()));
    bea.sync(&berlin_eng, 100).await;
    assert!(bea.titles().contains(&"Berlin office party".to_owned()));
}

async fn a_changed_audience_or_a_foreign_cursor_resets_the_cache(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let org = server.org("acme").await;
    let news = server.channel(&org, "news").await;
    let admin = server
        .person(&org, "Ada Admin", Role::Admin, "FR", "fr", "IT")
        .await;
    let employee = server
        .person(&org, "Eve Employee", Role::Employee, "FR", "fr", "Sales")
        .await;
    let mut germany_only = article(&news, "Munich meetup");
    germany_only.audience.countries = vec!["DE".into()];
    admin.publish(&germany_only).await;
    admin.publish(&article(&news, "For everyone")).await;

    let mut replica = Replica::default();
    replica.sync(&employee, 100).await;
    assert_eq!(replica.titles(), vec!["For everyone"]);

    // Eve moves to Germany: her devices start over and now see the German item.
    admin
        .send_ok::<_, Person>(
            Method::PATCH,
            &format!("/v1/people/{}", employee.person().id),
            Some(&PersonUpdate {
                country: Some("DE".into()),
                ..Default::default()
            }),
        )
        .await;
    let page = employee.sync_page(replica.cursor.as_deref(), 100).await;
    assert!(page.reset, "an audience change answers reset");
    replica.apply(page);
    assert_eq!(replica.resets, 1);
    assert_eq!(replica.titles(), vec!["For everyone", "Munich meetup"]);

    // A cursor from a future the server does not know (a restored backup) resets too.
    let page = employee.sync_page(Some("c1.1.999999"), 100).await;
    assert!(page.reset);
    assert_eq!(page.changes.len(), 2);
}

async fn scheduled_content_appears_at_its_time_and_leaves_at_expiry(backend: Backend) {
    let acme = Acme::new(backend).await;
    let Acme {
        news,
        curator,
        employee,
        ..
    } = &acme;

    let mut later = article(news, "Embargoed announcement");
    later.publish_at = Some(Utc::now() + chrono::Duration::milliseconds(1500));
    let scheduled = curator.publish(&later).await;
    assert!(!scheduled.live);
    let mut short = article(news, "Flash sale");
    short.expires_at = Some(Utc::now() + chrono::Duration::milliseconds(1500));
    curator.publish(&short).await;

    let mut replica = Replica::default();
    replica.sync(employee, 100).await;
    assert_eq!(replica.titles(), vec!["Flash sale"], "the embargo holds");

    let employee_ref = &employee;
    let mut last = replica.clone();
    eventually(15, "the embargo lifts and the sale expires", || {
        let mut r = last.clone();
        async move {
            r.sync(employee_ref, 100).await;
            r.titles() == vec!["Embargoed announcement"]
        }
    })
    .await;
    last.sync(employee, 100).await;
    assert_eq!(last.titles(), vec!["Embargoed announcement"]);
}

async fn a_device_back_after_the_tombstone_purge_rebuilds_its_cache(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let org = server.org("acme").await;
    let news = server.channel(&org, "news").await;
    let curator = server
        .person(&org, "Cora Curator", Role::Curator, "FR", "fr", "Comms")
        .await;
    let away = server
        .person(&org, "Alan Away", Role::Employee, "FR", "fr", "Sales")
        .await;
    let present = server
        .person(&org, "Pat Present", Role::Employee, "FR", "fr", "Sales")
        .await;
    let doomed = curator.publish(&article(&news, "Soon retracted")).await;
    curator.publish(&article(&news, "Stays")).await;

    // Alan's device syncs, then goes away for a long time.
    let mut away_replica = Replica::default();
    away_replica.sync(&away, 100).await;
    assert_eq!(away_replica.titles(), vec!["Soon retracted", "Stays"]);
    let retracted = curator
        .send(
            Method::POST,
            &format!("/v1/content/{}/retract", doomed.item.id),
            Some(&RetractRequest {
                reason: "outdated".into(),
            }),
        )
        .await;
    assert_eq!(retracted.status, reqwest::StatusCode::OK, "{retracted:?}");
    // Pat's device gets the tombstone in time.
    let mut present_replica = Replica::default();
    present_replica.sync(&present, 100).await;
    assert_eq!(present_replica.titles(), vec!["Stays"]);

    // Nothing is old enough yet: nothing is purged.
    let state = server.state();
    assert_eq!(
        relay_server::content::purge::purge_tombstones(state, chrono::Duration::days(1))
            .await
            .unwrap(),
        0
    );
    let purged = relay_server::content::purge::purge_tombstones(state, chrono::Duration::zero())
        .await
        .unwrap();
    assert_eq!(purged, 1);

    // Pat's cursor is past the tombstone: nothing new, no reset.
    let page = present
        .sync_page(present_replica.cursor.as_deref(), 100)
        .await;
    assert!(!page.reset && page.changes.is_empty(), "{page:?}");
    // Alan's cursor is older than the purge: he may have missed the tombstone, so his device
    // starts over and ends without the retracted item.
    let page = away.sync_page(away_replica.cursor.as_deref(), 100).await;
    assert!(page.reset, "a cursor older than the purge answers reset");
    away_replica.apply(page);
    away_replica.sync(&away, 100).await;
    assert_eq!(away_replica.titles(), vec!["Stays"]);
    assert_eq!(away_replica.resets, 1);
    // A new device is not sent the purged tombstone at all.
    let newcomer = server
        .person(&org, "Nina Newcomer", Role::Employee, "FR", "fr", "Sales")
        .await;
    let first = newcomer.sync_page(None, 100).await;
    assert!(
        first.changes.iter().all(|c| match c {
            Change::Upsert { item } => item.id != doomed.item.id,
            Change::Delete { id, .. } => id != &doomed.item.id,
        }),
        "{first:?}"
    );
    // The curators still have the item.
    let kept: CuratedContent = curator
        .get(&format!("/v1/content/{}", doomed.item.id))
        .await;
    assert_eq!(kept.state, ContentState::Retracted);
}
