//! Enrol, status, sign out.

use relay_client::{ClientError, Engine};

use crate::print;

pub async fn enrol(
    engine: &Engine,
    json: bool,
    server: &str,
    code: &str,
    device_name: &str,
) -> Result<(), ClientError> {
    let status = engine.enrol(server, code, device_name).await?;
    print(json, &status, |s| {
        println!(
            "Enrolled as {} ({}).",
            s.person.as_deref().unwrap_or("?"),
            s.organisation.as_deref().unwrap_or("?")
        );
        println!("Next: relay sync");
    });
    Ok(())
}

pub fn status(engine: &Engine, json: bool) -> Result<(), ClientError> {
    let status = engine.status()?;
    print(json, &status, |s| {
        match (&s.server, s.signed_in) {
            (Some(server), true) => println!(
                "Signed in to {server} as {}.",
                s.person.as_deref().unwrap_or("?")
            ),
            (Some(server), false) => println!(
                "Signed out from {server}{}.",
                s.signed_out_reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
            (None, _) => println!("Not enrolled: relay enrol SERVER CODE"),
        }
        println!(
            "{} items, {} unread; {} shares queued, {} failed.",
            s.items, s.unread, s.queued_shares, s.failed_shares
        );
    });
    Ok(())
}

pub fn sign_out(engine: &Engine, json: bool) -> Result<(), ClientError> {
    engine.sign_out()?;
    print(json, &serde_json::json!({"signed_out": true}), |_| {
        println!("Signed out. Queued shares are kept.")
    });
    Ok(())
}
