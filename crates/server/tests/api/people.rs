//! The people list pages and searches (the console's People screen over 20,000 people).

use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::{Method, StatusCode};

use crate::newsroom::*;

crate::both_backends!(people_are_listed_a_page_at_a_time_and_searched);

async fn people_are_listed_a_page_at_a_time_and_searched(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let mut names: Vec<String> = (0..118).map(|n| format!("Person {n:03}")).collect();
    names.push("Joanna Smith".into());
    names.push("100% Sales".into());
    for (n, name) in names.iter().enumerate() {
        room.admin
            .send_ok::<_, Person>(
                Method::POST,
                "/v1/people",
                Some(&NewPerson {
                    name: name.clone(),
                    email: format!("user{n}@Example.COM"),
                    country: "FR".into(),
                    language: "fr".into(),
                    department: "Sales".into(),
                    role: Role::Employee,
                }),
            )
            .await;
    }
    let everyone: i64 = room.count("people").await;
    let first: Vec<Person> = room.admin.get("/v1/people").await;
    assert_eq!(first.len(), 100, "a page of 100 by default");
    let sorted = {
        let mut s = first.clone();
        s.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        s
    };
    assert_eq!(first, sorted, "by name");
    let rest: Vec<Person> = room.admin.get("/v1/people?offset=100").await;
    assert_eq!((first.len() + rest.len()) as i64, everyone);
    assert!(rest.iter().all(|p| !first.contains(p)));

    let ann: Vec<Person> = room.admin.get("/v1/people?q=ANNA").await;
    assert_eq!(ann.len(), 1);
    assert_eq!(ann[0].name, "Joanna Smith");
    let by_email: Vec<Person> = room.admin.get("/v1/people?q=user7%40example.com").await;
    assert_eq!(by_email.len(), 1, "{by_email:?}");
    // `%` and `_` are searched for, not wildcards.
    let percent: Vec<Person> = room.admin.get("/v1/people?q=%25").await;
    assert_eq!(percent.len(), 1);
    assert_eq!(percent[0].name, "100% Sales");
    let underscore: Vec<Person> = room.admin.get("/v1/people?q=_").await;
    assert!(underscore.is_empty(), "{underscore:?}");

    for bad in [
        "/v1/people?limit=0",
        "/v1/people?limit=1001",
        "/v1/people?offset=100001",
    ] {
        let answer = room.admin.send::<()>(Method::GET, bad, None).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let long = format!("/v1/people?q={}", "a".repeat(201));
    let answer = room.admin.send::<()>(Method::GET, &long, None).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
}
