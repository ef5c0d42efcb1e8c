//! People imported from CSV over real HTTP: a file with any bad row imports nothing and names
//! each bad row; a good one imports every row once.

use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::header::CONTENT_TYPE;
use reqwest::StatusCode;
use serde_json::Value;

use crate::newsroom::*;

crate::both_backends!(a_csv_import_with_any_bad_row_imports_nothing);

async fn a_csv_import_with_any_bad_row_imports_nothing(backend: Backend) {
    let room = Newsroom::new(backend).await;
    let before: i64 = room.count("people").await;
    let import = |body: &'static str, content_type: &'static str| {
        let admin = &room.admin;
        async move {
            let answer = admin
                .http
                .post(format!("{}/v1/people/import", admin.base))
                .bearer_auth(admin.token.as_deref().unwrap())
                .header(CONTENT_TYPE, content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            (answer.status(), answer.json::<Value>().await.unwrap())
        }
    };

    let bad = "name,email,country,language,department,role\n\
               Ann Lee,ann@acme.test,FR,fr,Marketing,employee\n\
               Bob,not-an-address,FR,fr,,\n\
               Cy,cy@acme.test,France,fr,,\n\
               Dee,ann@ACME.test,FR,fr,,\n\
               Eve,eve@acme.test,FR,fr,,overlord\n";
    let (status, report) = import(bad, "text/csv").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let report: ImportReport = serde_json::from_value(report).unwrap();
    assert_eq!(report.rows, 5);
    assert_eq!(report.imported, 0);
    let lines: Vec<u32> = report.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [3, 4, 5, 6], "{report:?}");
    assert!(report.errors[2].error.contains("line 2"), "{report:?}");
    assert_eq!(room.count("people").await, before, "nothing imported");

    let good = "\u{feff}Email,Name,Country,Language\r\n\
                ann@acme.test,\"Lee, Ann\",fr,FR\r\n\
                bob@acme.test,Bob Stone,BE,fr\r\n";
    let (status, report) = import(good, "text/csv; charset=utf-8").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["imported"], 2, "{report}");
    let ann: Vec<Person> = room.admin.get("/v1/people?q=ann%40acme").await;
    assert_eq!(ann[0].name, "Lee, Ann");
    assert_eq!(
        (ann[0].country.as_str(), ann[0].language.as_str()),
        ("FR", "fr")
    );
    assert_eq!(ann[0].role, Role::Employee);

    let (status, report) = import(good, "text/csv").await;
    assert_eq!(
        report["imported"], 0,
        "a second run imports nothing: {report}"
    );
    assert_eq!(status, StatusCode::OK);
    let (status, _) = import("name,email\nA,a@acme.test\n", "text/csv").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "country and language are needed"
    );
    let (status, _) = import("name,email,country,language,salary\n", "text/csv").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "unknown columns are refused"
    );
    let (status, _) = import("[{\"name\":\"x\"}]", "application/json").await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, _) = import(
        "name,email,country,language\n\"unclosed,a@b.c,FR,fr\n",
        "text/csv",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(room.count("people").await, before + 2);

    let eve = room.employee("Eve Employee", "FR", "Sales").await;
    let answer = eve
        .http
        .post(format!("{}/v1/people/import", eve.base))
        .bearer_auth(eve.token.as_deref().unwrap())
        .header(CONTENT_TYPE, "text/csv")
        .body(good)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
}
