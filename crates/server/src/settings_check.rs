//! `relay-server config check`: every setting's effective value and where it came from (a flag,
//! the environment, the settings file or the default), secrets masked; it fails on what the
//! server would refuse at start.

use clap::Parser;

use crate::cli::{Cli, Command, ServeArgs};
use crate::settings_file::{shown, Origin, SETTINGS};

pub fn check(cli: &Cli) -> anyhow::Result<()> {
    // The values `serve` would take, read as `serve` reads them.
    let serve = match Cli::try_parse_from(["relay-server", "serve"]) {
        Ok(Cli {
            command: Command::Serve(args),
            ..
        }) => args,
        Ok(_) => unreachable!("parsed as serve"),
        // clap's message starts with its own "error: ", which main adds too.
        Err(e) => {
            let message = e.to_string();
            let message = message.trim_end();
            anyhow::bail!("{}", message.strip_prefix("error: ").unwrap_or(message))
        }
    };
    serve_values_hold(&serve)?;
    crate::push::PushSettings::from_env()?;
    all_or_none(
        "company sign-in",
        &[
            "RELAY_OIDC_ISSUER",
            "RELAY_OIDC_CLIENT_ID",
            "RELAY_OIDC_ORG",
        ],
    )?;
    all_or_none(
        "LinkedIn's code exchange",
        &["RELAY_LINKEDIN_CLIENT_ID", "RELAY_LINKEDIN_CLIENT_SECRET"],
    )?;

    match crate::settings_file::read_from() {
        Some(path) => println!("settings file: {}", path.display()),
        None => println!("settings file: none (--config FILE or RELAY_CONFIG)"),
    }
    let mut table = None;
    for setting in SETTINGS {
        if setting.table != table {
            table = setting.table;
            if let Some(name) = table {
                println!("\n[{name}]");
            }
        }
        let (value, origin) = effective(cli, setting);
        let value = match value {
            Some(value) => shown(setting, &value),
            None => setting.default.to_owned(),
        };
        println!("{:<22} = {value}   ({})", setting.key, origin.as_str());
    }
    Ok(())
}

/// A setting's value (none: its default) and where it came from.
fn effective(cli: &Cli, setting: &crate::settings_file::Setting) -> (Option<String>, Origin) {
    let flag = match setting.env {
        "DATABASE_URL" => Some(("database_url", Some(cli.database_url.clone()))),
        "RELAY_PUBLIC_URL" => Some(("public_url", cli.public_url.clone())),
        "RELAY_SOURCES_ALLOW_PRIVATE" => Some((
            "sources_allow_private",
            Some(cli.sources_allow_private.to_string()),
        )),
        _ => None,
    };
    if let Some((id, value)) = flag {
        if cli.flags.iter().any(|f| f == id) {
            return (value, Origin::Flag);
        }
    }
    match std::env::var(setting.env) {
        Ok(value) if crate::settings_file::set_by_file(setting.env) => (Some(value), Origin::File),
        Ok(value) => (Some(value), Origin::Environment),
        Err(_) => (None, Origin::Default),
    }
}

/// What `serve` refuses at start.
fn serve_values_hold(args: &ServeArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.access_ttl_secs > 0, "access_ttl_secs must be positive");
    anyhow::ensure!(args.tombstone_days > 0, "tombstone_days must be positive");
    anyhow::ensure!(
        args.month_grace_hours >= 0,
        "month_grace_hours must not be negative"
    );
    Ok(())
}

fn all_or_none(what: &str, vars: &[&str]) -> anyhow::Result<()> {
    let set: Vec<&str> = vars
        .iter()
        .copied()
        .filter(|v| std::env::var(v).is_ok_and(|v| !v.is_empty()))
        .collect();
    if !set.is_empty() && set.len() < vars.len() {
        let missing: Vec<String> = vars
            .iter()
            .filter(|v| !set.contains(v))
            .map(|v| name_of(v))
            .collect();
        anyhow::bail!("{what} needs {} as well", missing.join(" and "));
    }
    Ok(())
}

/// A variable's key in the settings file (`[oidc] issuer`).
fn name_of(env: &str) -> String {
    SETTINGS
        .iter()
        .find(|s| s.env == env)
        .map(|s| match s.table {
            Some(table) => format!("[{table}] {} ({env})", s.key),
            None => format!("{} ({env})", s.key),
        })
        .unwrap_or_else(|| env.to_owned())
}
