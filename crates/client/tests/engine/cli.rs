//! The `relay` command line's contract with scripts: exit codes and JSON output.

#[tokio::test]
async fn exit_codes_say_what_went_wrong() {
    let dir = crate::sweep::tempdir();
    let code = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_relay"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    let not_enrolled = code(&["sync"]);
    assert_eq!(not_enrolled.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&not_enrolled.stderr).contains("enrol"));
    assert_eq!(code(&["show", "nope"]).status.code(), Some(5));
    assert_eq!(code(&["queue", "cancel", "nope"]).status.code(), Some(5));
    assert_eq!(
        code(&["enrol", "ftp://server", "CODE"]).status.code(),
        Some(6)
    );
    assert_eq!(
        code(&["enrol", "http://127.0.0.1:9", "AAAA-BBBB-CCCC-DDDD"])
            .status
            .code(),
        Some(4),
        "unreachable"
    );
    assert_eq!(code(&["share"]).status.code(), Some(2), "usage");
    let status = code(&["--json", "status"]);
    assert!(status.status.success());
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(json["signed_in"], false);
    assert_eq!(json["items"], 0);
}
