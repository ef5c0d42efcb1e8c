//! SCIM 2.0 provisioning as the company's directory uses it: the sequence of requests
//! Microsoft Entra ID's provisioning service sends (from its documentation: match by
//! `userName`, create, read, update multi- and single-valued attributes, disable, delete),
//! with the person enrolling, being signed out when disabled and erased when deleted;
//! scim2-tester (PyPI) checking the running binary against the RFCs; and bad input, wrong
//! tokens and another organisation's token refused with SCIM errors, changing nothing.

use std::process::Command;

use relay_protocol::*;
use relay_server::db::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::cli::serve_with;
use crate::harness::*;

crate::both_backends!(
    entra_ids_provisioning_sequence_provisions_signs_out_and_erases,
    bad_input_and_wrong_tokens_get_scim_errors_and_change_nothing,
    a_person_already_there_is_taken_over_not_duplicated
);

const SCIM: &str = "application/scim+json";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The directory: a client of `/scim/v2` with the organisation's token.
fn directory(server: &Server, token: &str) -> Client {
    Client {
        token: Some(token.to_owned()),
        ..server.anonymous()
    }
}

async fn scim(client: &Client, method: Method, path: &str, body: Option<Value>) -> Answer {
    let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let answer = client
        .send_raw(method, &format!("/scim/v2{path}"), SCIM, body)
        .await;
    assert_eq!(answer.content_type, SCIM, "{answer:?}");
    answer
}

fn assert_scim_error(answer: &Answer, status: StatusCode, scim_type: Option<&str>) {
    assert_eq!(answer.status, status, "{answer:?}");
    assert_eq!(answer.body["schemas"], json!([ERROR]), "{answer:?}");
    assert_eq!(answer.body["status"], status.as_u16().to_string());
    assert_eq!(answer.body["scimType"].as_str(), scim_type, "{answer:?}");
}

async fn count(server: &Server, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&server.db().read)
        .await
        .unwrap()
}

/// Entra ID's "Create User" request, as its documentation gives it.
fn entra_user(user_name: &str, email: &str) -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": user_name,
        "active": true,
        "addresses": [{"primary": true, "type": "work", "country": "FR"}],
        "displayName": "Test User",
        "emails": [{"primary": true, "type": "work", "value": email}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "preferredLanguage": "fr-FR",
        "roles": [],
        ENTERPRISE: {"department": "Sales"}
    })
}

async fn entra_ids_provisioning_sequence_provisions_signs_out_and_erases(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let org = server.org("acme").await;
    let news = server.channel(&org, "news").await;
    let admin = server
        .person(&org, "Ada Admin", Role::Admin, "FR", "fr", "Comms")
        .await;
    let (_, token) = relay_server::scim::tokens::create(server.db(), &org.id)
        .await
        .unwrap();
    let entra = directory(&server, &token);
    let user_name = "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1";
    let email = "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com";

    // Get User by query, zero results: the user is not there yet.
    let filter = format!(
        "/Users?filter={}",
        urlencode(&format!("userName eq \"{user_name}\""))
    );
    let none = scim(&entra, Method::GET, &filter, None).await;
    assert_eq!(none.status, StatusCode::OK);
    assert_eq!(none.body["totalResults"], 0);
    assert_eq!(
        none.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    // Create User.
    let created = scim(
        &entra,
        Method::POST,
        "/Users",
        Some(entra_user(user_name, email)),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["userName"], user_name);
    assert_eq!(
        created.body["externalId"],
        "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"
    );
    assert_eq!(created.body["name"]["givenName"], "givenName");
    assert_eq!(created.body[ENTERPRISE]["department"], "Sales");
    assert_eq!(created.body["meta"]["resourceType"], "User");
    assert!(created.body["meta"]["location"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/scim/v2/Users/{id}")));
    // The same request again (a retry): the userName is taken.
    let again = scim(
        &entra,
        Method::POST,
        "/Users",
        Some(entra_user(user_name, "other@testuser.com")),
    )
    .await;
    assert_scim_error(&again, StatusCode::CONFLICT, Some("uniqueness"));
    // Get User, and Get User by query.
    let read = scim(&entra, Method::GET, &format!("/Users/{id}"), None).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["emails"][0]["value"], email.to_lowercase());
    let found = scim(&entra, Method::GET, &filter, None).await;
    assert_eq!(found.body["totalResults"], 1);
    assert_eq!(found.body["Resources"][0]["id"], id.as_str());

    // The person Relay made: an employee of France reading French in Sales, who enrols.
    let person = relay_server::people::get(server.db(), &org.id, &id)
        .await
        .unwrap();
    assert_eq!(
        (
            person.name.as_str(),
            person.email.as_str(),
            person.country.as_str(),
            person.language.as_str(),
            person.department.as_str(),
            person.role
        ),
        (
            "givenName familyName",
            email.to_lowercase().as_str(),
            "FR",
            "fr",
            "Sales",
            Role::Employee
        )
    );
    let device = server.enrol(&org, &id).await;
    admin.publish(&article(&news, "For everyone")).await;
    assert_eq!(device.sync_page(None, 100).await.changes.len(), 1);

    // Update User [Multi-valued properties], then [Single-valued properties].
    let patched = scim(
        &entra,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(json!({
            "schemas": [PATCH],
            "Operations": [
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}
            ]
        })),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{patched:?}");
    assert_eq!(
        patched.body["emails"][0]["value"],
        "updatedemail@microsoft.com"
    );
    assert_eq!(patched.body["name"]["familyName"], "updatedFamilyName");
    let renamed = scim(
        &entra,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(json!({
            "schemas": [PATCH],
            "Operations": [{"op": "Replace", "path": "userName", "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}]
        })),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::OK);
    assert_eq!(
        renamed.body["userName"],
        "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
    );
    let person = relay_server::people::get(server.db(), &org.id, &id)
        .await
        .unwrap();
    assert_eq!(person.email, "updatedemail@microsoft.com");
    // The device stays signed in through changes of name and address.
    assert_eq!(
        device
            .send::<()>(Method::GET, "/v1/sync", None)
            .await
            .status,
        StatusCode::OK
    );

    // Disable User: a departure. Their devices are signed out at once.
    let disabled = scim(
        &entra,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(json!({
            "schemas": [PATCH],
            "Operations": [{"op": "Replace", "path": "active", "value": false}]
        })),
    )
    .await;
    assert_eq!(disabled.status, StatusCode::OK);
    assert_eq!(disabled.body["active"], false);
    assert_eq!(
        device
            .send::<()>(Method::GET, "/v1/sync", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Entra's older string form brings them back; they enrol again.
    let enabled = scim(
        &entra,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(json!({
            "schemas": [PATCH],
            "Operations": [{"op": "Replace", "value": {"active": "True"}}]
        })),
    )
    .await;
    assert_eq!(enabled.body["active"], true, "{enabled:?}");
    let back = server.enrol(&org, &id).await;
    assert_eq!(
        back.send::<()>(Method::GET, "/v1/sync", None).await.status,
        StatusCode::OK
    );

    // Delete User: the person is erased.
    let deleted = entra
        .send_raw(
            Method::DELETE,
            &format!("/scim/v2/Users/{id}"),
            SCIM,
            vec![],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = scim(&entra, Method::GET, &format!("/Users/{id}"), None).await;
    assert_scim_error(&gone, StatusCode::NOT_FOUND, None);
    assert!(relay_server::people::get(server.db(), &org.id, &id)
        .await
        .is_err());
    assert_eq!(count(&server, "scim_users").await, 0);
    assert_eq!(
        back.send::<()>(Method::GET, "/v1/sync", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Every change is in the audit log, with the token that made it.
    let audited: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE org_id = $1 AND (action LIKE 'scim.%' OR action = 'person.erase') ORDER BY id",
    )
    .bind(&org.id)
    .fetch_all(&server.db().read)
    .await
    .unwrap();
    assert_eq!(
        audited,
        [
            "scim.token.create",
            "scim.user.create",
            "scim.user.replace",
            "scim.user.replace",
            "scim.user.replace",
            "scim.user.replace",
            "person.erase"
        ]
    );
}

async fn bad_input_and_wrong_tokens_get_scim_errors_and_change_nothing(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let acme = server.org("acme").await;
    let other = server.org("other").await;
    let (acme_token_id, token) = relay_server::scim::tokens::create(server.db(), &acme.id)
        .await
        .unwrap();
    let (_, other_token) = relay_server::scim::tokens::create(server.db(), &other.id)
        .await
        .unwrap();
    let entra = directory(&server, &token);
    let created = scim(
        &entra,
        Method::POST,
        "/Users",
        Some(entra_user("ann", "ann@acme.example")),
    )
    .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let people = count(&server, "people").await;
    let before = scim(&entra, Method::GET, &format!("/Users/{id}"), None)
        .await
        .body;

    // Tokens: none, made up, a device's access token, another organisation's.
    let device = server
        .person(&acme, "Eve Employee", Role::Admin, "FR", "fr", "Sales")
        .await;
    for wrong in [None, Some("rlp_made-up"), device.token.as_deref()] {
        let client = Client {
            token: wrong.map(str::to_owned),
            ..server.anonymous()
        };
        let answer = scim(&client, Method::GET, "/Users", None).await;
        assert_scim_error(&answer, StatusCode::UNAUTHORIZED, None);
    }
    let stranger = directory(&server, &other_token);
    let hidden = scim(&stranger, Method::GET, &format!("/Users/{id}"), None).await;
    assert_scim_error(&hidden, StatusCode::NOT_FOUND, None);
    let listed = scim(&stranger, Method::GET, "/Users", None).await;
    assert_eq!(listed.body["totalResults"], 0);
    let deleted = scim(&stranger, Method::DELETE, &format!("/Users/{id}"), None).await;
    assert_scim_error(&deleted, StatusCode::NOT_FOUND, None);

    // Bodies and filters that cannot be right.
    let raw = |body: &str| body.as_bytes().to_vec();
    for (method, path, body, status, scim_type) in [
        (Method::POST, "/Users".to_owned(), raw("{\"userName\": "), StatusCode::BAD_REQUEST, Some("invalidSyntax")),
        (Method::POST, "/Users".to_owned(), raw("[{\"userName\": \"x@acme.example\"}]"), StatusCode::BAD_REQUEST, Some("invalidSyntax")),
        (Method::POST, "/Users".to_owned(), raw("{\"userName\": \"a@acme.example\", \"userName\": \"b@acme.example\"}"), StatusCode::BAD_REQUEST, Some("invalidSyntax")),
        (Method::POST, "/Users".to_owned(), raw("{\"userName\": \"no-address\"}"), StatusCode::BAD_REQUEST, Some("invalidValue")),
        (Method::POST, "/Users".to_owned(), raw("{\"userName\": \"b@acme.example\", \"addresses\": [{\"country\": \"France\"}]}"), StatusCode::BAD_REQUEST, Some("invalidValue")),
        (Method::POST, "/Users".to_owned(), raw("{\"userName\": \"ANN\", \"emails\": [{\"value\": \"c@acme.example\"}]}"), StatusCode::CONFLICT, Some("uniqueness")),
        (Method::POST, "/Users".to_owned(), raw("{\"userName\": \"d\", \"emails\": [{\"value\": \"ann@acme.example\"}]}"), StatusCode::CONFLICT, Some("uniqueness")),
        (Method::GET, format!("/Users?filter={}", urlencode("title eq \"x\"")), vec![], StatusCode::BAD_REQUEST, Some("invalidFilter")),
        (Method::GET, format!("/Users?filter={}", urlencode("userName co \"a\"")), vec![], StatusCode::BAD_REQUEST, Some("invalidFilter")),
        (Method::GET, "/Users?count=many".to_owned(), vec![], StatusCode::BAD_REQUEST, Some("invalidValue")),
        (Method::PUT, format!("/Users/{id}"), raw("{\"id\": \"another\", \"userName\": \"ann\", \"emails\": [{\"value\": \"ann@acme.example\"}]}"), StatusCode::BAD_REQUEST, Some("mutability")),
        (Method::PATCH, format!("/Users/{id}"), raw(&json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "x"}]}).to_string()), StatusCode::BAD_REQUEST, Some("invalidPath")),
        (Method::PATCH, format!("/Users/{id}"), raw(&json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "displayName", "value": "Kept?"}, {"op": "remove", "path": "userName"}]}).to_string()), StatusCode::BAD_REQUEST, Some("mutability")),
        (Method::PATCH, format!("/Users/{id}"), raw(&json!({"Operations": [{"op": "replace", "path": "active", "value": false}]}).to_string()), StatusCode::BAD_REQUEST, Some("invalidSyntax")),
        (Method::PATCH, "/Users/no-such-user".to_owned(), raw(&json!({"schemas": [PATCH], "Operations": []}).to_string()), StatusCode::NOT_FOUND, None),
    ] {
        let answer = entra
            .send_raw(method.clone(), &format!("/scim/v2{path}"), SCIM, body)
            .await;
        assert_eq!(answer.content_type, SCIM, "{method} {path}");
        assert_scim_error(&answer, status, scim_type);
    }
    // An oversized body.
    let huge = format!(
        "{{\"userName\": \"e@acme.example\", \"displayName\": \"{}\"}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let answer = entra
        .send_raw(Method::POST, "/scim/v2/Users", SCIM, huge.into_bytes())
        .await;
    assert_scim_error(&answer, StatusCode::PAYLOAD_TOO_LARGE, None);

    // Nothing changed: no person more, the user as it was (the PATCH that failed half-way
    // applied none of its operations).
    assert_eq!(
        count(&server, "people").await,
        people + 1,
        "only Eve, added here"
    );
    let after = scim(&entra, Method::GET, &format!("/Users/{id}"), None)
        .await
        .body;
    assert_eq!(after, before);

    // A revoked token is refused from its next request on.
    assert!(
        relay_server::scim::tokens::revoke(server.db(), &acme.id, &acme_token_id)
            .await
            .unwrap()
    );
    let refused = scim(&entra, Method::GET, "/Users", None).await;
    assert_scim_error(&refused, StatusCode::UNAUTHORIZED, None);
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM scim_tokens")
        .fetch_all(&server.db().read)
        .await
        .unwrap();
    assert!(
        stored.iter().all(|h| h != &token && h != &other_token),
        "stored hashed"
    );
}

/// Moving to the directory after a CSV import: the directory's user with a person's address is
/// that person (their history kept), not a second one.
async fn a_person_already_there_is_taken_over_not_duplicated(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = Server::start(&db).await;
    let org = server.org("acme").await;
    let eve = server
        .person(&org, "Eve Employee", Role::Curator, "FR", "fr", "Sales")
        .await;
    let (_, token) = relay_server::scim::tokens::create(server.db(), &org.id)
        .await
        .unwrap();
    let entra = directory(&server, &token);
    let mut user = entra_user("eve", &eve.person().email.to_uppercase());
    user[ENTERPRISE]["department"] = json!("Marketing");
    let created = scim(&entra, Method::POST, "/Users", Some(user)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    assert_eq!(created.body["id"], eve.person().id.as_str());
    let person = relay_server::people::get(server.db(), &org.id, &eve.person().id)
        .await
        .unwrap();
    assert_eq!(person.department, "Marketing");
    assert_eq!(
        person.role,
        Role::Curator,
        "the role is Relay's, not the directory's"
    );
    assert_eq!(count(&server, "people").await, 1);
}

/// The real binary: `relay-server scim token` makes the token, and scim2-tester checks the
/// served endpoint against RFC 7643/7644 (discovery, CRUD, attribute selection, PATCH).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scim2_tester_finds_nothing_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("relay.db").display());
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_relay-server"))
            .args(["--database-url", &url])
            .args(args)
            .env_remove("DATABASE_URL")
            .env_remove("RELAY_CONFIG")
            .env("RELAY_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["demo"]);
    let printed = run(&["scim", "token", "--org", "contoso"]);
    let token = printed
        .lines()
        .find_map(|l| l.strip_prefix("secret token: "))
        .expect("the token")
        .to_owned();
    let (_server, base) = serve_with(&["--database-url", &url], &[]);
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new("bash")
        .arg(repo.join("scripts/scim-tester.sh"))
        .arg(format!("{base}/scim/v2"))
        .arg(&token)
        .current_dir(&repo)
        .output()
        .expect("scripts/scim-tester.sh");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let checks: usize = report
        .lines()
        .find_map(|l| l.strip_prefix("checks: "))
        .and_then(|l| l.split(',').next())
        .and_then(|n| n.parse().ok())
        .expect("a count of checks");
    assert!(checks >= 50, "{report}");
    // Listed and revoked from the command line.
    let listed = run(&["scim", "tokens", "--org", "contoso"]);
    let id = listed.split_whitespace().next().unwrap().to_owned();
    assert!(listed.contains("last used 20"), "{listed}");
    run(&["scim", "revoke", "--org", "contoso", &id]);
    assert!(run(&["scim", "tokens", "--org", "contoso"]).contains("REVOKED"));
}
