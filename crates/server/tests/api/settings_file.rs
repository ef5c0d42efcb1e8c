//! The settings file as an operator uses it: `relay-server --config FILE`, variables and flags
//! over it, secrets from files, `config check`, and a file with a mistake refused.

use std::process::{Command, Output};

use crate::cli::serve_with;
use crate::harness::*;

const SECRET: &str = "linkedin-secret-8f3a91d2c4";

fn relay_server(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_relay-server"));
    command.args(args).env("RELAY_LOG", "warn");
    // What this test sets is all the server sees of these.
    for setting in [
        "DATABASE_URL",
        "RELAY_PUBLIC_URL",
        "RELAY_CONFIG",
        "RELAY_ATTEMPTS_PER_ORG",
    ] {
        command.env_remove(setting);
    }
    command.envs(env.iter().copied()).output().unwrap()
}

/// The line of `config check`'s answer for a key (the first, where a key is in two tables).
fn line<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(key))
        .unwrap_or_else(|| panic!("no {key} in {out}"))
}

#[tokio::test]
async fn the_file_fills_in_what_variables_and_flags_leave() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("linkedin-secret");
    std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
    let file_db = format!("sqlite:{}", dir.path().join("from-file.db").display());
    let config = dir.path().join("relay.toml");
    std::fs::write(
        &config,
        format!(
            "# Relay's settings\ndatabase_url = \"{file_db}\"\npublic_url = \"https://relay.from-file.example\"\n\n\
             [limits]\nattempts_per_org = 123\n\n[sessions]\naccess_ttl_secs = 600\n\n\
             [linkedin]\nclient_id = \"relay-linkedin-app\"\nclient_secret_file = \"{}\"\n",
            secret.display()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();

    // Flag over variable over file over default, each said.
    let flag_db = format!("sqlite:{}", dir.path().join("from-flag.db").display());
    let checked = relay_server(
        &[
            "--config",
            config,
            "--database-url",
            &flag_db,
            "config",
            "check",
        ],
        &[("RELAY_PUBLIC_URL", "https://relay.from-env.example")],
    );
    let out = text(&checked.stdout);
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    assert!(out.contains(&format!("settings file: {config}")), "{out}");
    assert!(
        line(&out, "database_url").contains(&format!("= {flag_db}   (flag)")),
        "{out}"
    );
    assert!(
        line(&out, "public_url").contains("= https://relay.from-env.example   (environment)"),
        "{out}"
    );
    assert!(
        line(&out, "attempts_per_org").contains("= 123   (settings file)"),
        "{out}"
    );
    assert!(
        line(&out, "access_ttl_secs").contains("= 600   (settings file)"),
        "{out}"
    );
    assert!(
        line(&out, "bind").contains("= 127.0.0.1:8080   (default)"),
        "{out}"
    );
    assert!(
        line(&out, "client_secret").contains(&format!(
            "(secret, {} characters)   (settings file)",
            SECRET.len()
        )),
        "{out}"
    );
    assert!(
        !out.contains(SECRET),
        "config check printed the secret: {out}"
    );

    // And the server runs on it: its database, its public URL, LinkedIn offered with the
    // secret read from its file.
    let demo = relay_server(&["--config", config, "demo"], &[]);
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    assert!(dir.path().join("from-file.db").exists());
    let code = text(&demo.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("enrolment code: ").map(str::to_owned))
        .expect("an enrolment code");
    let (_server, base) = serve_with(&["--config", config], &[]);
    let device = Client::anonymous_at(&base)
        .enrol(code, "settings file")
        .await;
    let app: relay_protocol::LinkedInApp = device.get("/v1/linkedin").await;
    assert_eq!(app.client_id, "relay-linkedin-app");
    assert_eq!(
        app.redirect_uri,
        "https://relay.from-file.example/v1/oauth/callback"
    );
}

#[test]
fn a_secret_variable_may_name_a_file_and_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, SECRET).unwrap();
    let checked = relay_server(
        &["config", "check"],
        &[
            ("RELAY_LINKEDIN_CLIENT_ID", "app"),
            (
                "RELAY_LINKEDIN_CLIENT_SECRET_FILE",
                secret.to_str().unwrap(),
            ),
            (
                "DATABASE_URL",
                "postgres://relay:hunter2-db-password@db.internal/relay",
            ),
        ],
    );
    let out = text(&checked.stdout);
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    assert!(
        line(&out, "client_secret").contains(&format!("(secret, {} characters)", SECRET.len())),
        "{out}"
    );
    assert!(
        line(&out, "database_url").contains("postgres://relay:********@db.internal/relay"),
        "{out}"
    );
    assert!(!out.contains(SECRET) && !out.contains("hunter2"), "{out}");

    // A secret file that cannot be read stops everything, naming the variable.
    let refused = relay_server(
        &["config", "check"],
        &[("RELAY_LINKEDIN_CLIENT_SECRET_FILE", "/nonexistent/secret")],
    );
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("RELAY_LINKEDIN_CLIENT_SECRET_FILE"),
        "{}",
        text(&refused.stderr)
    );
}

#[test]
fn a_file_with_a_mistake_is_refused_with_its_line_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("relay.db");
    let config = dir.path().join("relay.toml");
    std::fs::write(
        &config,
        format!(
            "database_url = \"sqlite:{}\"\n\n[limits]\nattempts_per_adress = 10\n",
            db.display()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    for args in [
        vec!["--config", config, "config", "check"],
        vec!["--config", config, "serve", "--bind", "127.0.0.1:0"],
        vec!["--config", config, "migrate"],
    ] {
        let refused = relay_server(&args, &[]);
        assert!(!refused.status.success(), "{args:?} ran");
        let why = text(&refused.stderr);
        assert!(
            why.contains("line 4: unknown setting [limits] attempts_per_adress"),
            "{args:?}: {why}"
        );
    }
    assert!(!db.exists(), "a refused file still made the database");

    // What TOML itself refuses is said with its line too.
    std::fs::write(config, "bind = \"0.0.0.0:80\n").unwrap();
    let refused = relay_server(&["--config", config, "config", "check"], &[]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("line 1"),
        "{}",
        text(&refused.stderr)
    );

    // Half a company sign-in is refused before it would surprise anyone.
    std::fs::write(config, "[oidc]\nissuer = \"https://login.example\"\n").unwrap();
    let refused = relay_server(&["--config", config, "config", "check"], &[]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("company sign-in needs [oidc] client_id"),
        "{}",
        text(&refused.stderr)
    );

    // A value the server would refuse at start, too.
    std::fs::write(config, "[sessions]\naccess_ttl_secs = 0\n").unwrap();
    let refused = relay_server(&["--config", config, "config", "check"], &[]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("access_ttl_secs must be positive"),
        "{}",
        text(&refused.stderr)
    );
}

#[tokio::test]
async fn json_logs_are_one_object_a_line() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("relay.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_relay-server"))
        .args(["--database-url", &url, "serve", "--bind", "127.0.0.1:0"])
        .env("RELAY_LOG", "info")
        .env("RELAY_LOG_FORMAT", "json")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let _server = crate::cli::Killed(child);
    let mut lines = BufReader::new(stderr).lines().map_while(Result::ok);
    let mut base = None;
    for line in lines.by_ref() {
        let entry: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not one JSON object: {line:?}: {e}"));
        assert!(
            entry["level"].is_string() && entry["timestamp"].is_string(),
            "{line}"
        );
        if entry["fields"]["message"] == "relay-server listening" {
            base = entry["fields"]["url"].as_str().map(str::to_owned);
            break;
        }
    }
    let base = base.expect("the listening line, as JSON");
    assert_eq!(
        reqwest::get(format!("{base}/healthz"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );

    let refused = relay_server(&["config", "check"], &[("RELAY_LOG_FORMAT", "xml")]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("`text` or `json`"),
        "{}",
        text(&refused.stderr)
    );
}
