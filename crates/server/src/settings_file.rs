//! The settings file: `relay-server --config FILE` (or `RELAY_CONFIG`) reads TOML holding every
//! setting the flags and `RELAY_*` variables have, keys named as the flags. The file fills in
//! what the environment leaves unset, and flags override both (clap reads flags over
//! variables), so the order is: flag, then variable, then file, then the default.
//!
//! Every secret may instead come from a file: `client_secret_file = "/run/secrets/linkedin"` in
//! the settings file, or `RELAY_LINKEDIN_CLIENT_SECRET_FILE` in the environment. `relay-server
//! config check` prints the effective settings with secrets masked.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use crate::settings_list::{Sensitivity, Setting, SETTINGS};

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Environment,
    File,
    Default,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Flag => "flag",
            Origin::Environment => "environment",
            Origin::File => "settings file",
            Origin::Default => "default",
        }
    }
}

/// A settings file, read and checked.
#[derive(Debug, Default)]
pub struct Loaded {
    pub path: Option<PathBuf>,
    /// Each setting the file gives, as its variable and its value (secrets read from their
    /// files already).
    pub values: Vec<(&'static str, String)>,
}

/// What went wrong with a settings file, with the line where the file says where.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {why}")]
pub struct FileError {
    pub path: String,
    pub why: String,
}

/// The settings file named by `--config FILE` (or `--config=FILE`) among `args`, or by
/// `RELAY_CONFIG`.
pub fn named_in(args: &[std::ffi::OsString]) -> Option<PathBuf> {
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy();
        if arg == "--" {
            break;
        }
        if arg == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(path) = arg.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os("RELAY_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Reads and checks a settings file: TOML, every key known, every value of its type, every
/// secret file readable.
pub fn load(path: &Path) -> Result<Loaded, FileError> {
    let fail = |why: String| FileError {
        path: path.display().to_string(),
        why,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
    let document: toml::Table = toml::from_str(&text).map_err(|e| fail(describe(&e)))?;
    let mut values = Vec::new();
    let mut seen = BTreeSet::new();
    for (name, value) in &document {
        match value {
            toml::Value::Table(table) if is_table(name) => {
                for (key, value) in table {
                    let at = format!("[{name}] {key}");
                    let (setting, from_file) = find(Some(name), key).ok_or_else(|| {
                        fail(format!(
                            "{} unknown setting {at}",
                            line_of(&text, Some(name), key)
                        ))
                    })?;
                    values.push(value_of(setting, from_file, value, &at).map_err(|why| {
                        fail(format!("{} {why}", line_of(&text, Some(name), key)))
                    })?);
                    if !seen.insert(setting.env) {
                        return Err(fail(format!("{at} is given twice (itself and its _file)")));
                    }
                }
            }
            _ => {
                let (setting, from_file) = find(None, name).ok_or_else(|| {
                    fail(format!(
                        "{} unknown setting {name}",
                        line_of(&text, None, name)
                    ))
                })?;
                values.push(
                    value_of(setting, from_file, value, name)
                        .map_err(|why| fail(format!("{} {why}", line_of(&text, None, name))))?,
                );
                if !seen.insert(setting.env) {
                    return Err(fail(format!(
                        "{name} is given twice (itself and its _file)"
                    )));
                }
            }
        }
    }
    Ok(Loaded {
        path: Some(path.to_owned()),
        values,
    })
}

fn is_table(name: &str) -> bool {
    SETTINGS.iter().any(|s| s.table == Some(name))
}

/// The setting a key names, and whether it names the secret's file (`…_file`).
fn find(table: Option<&str>, key: &str) -> Option<(&'static Setting, bool)> {
    let in_place = |k: &str| SETTINGS.iter().find(|s| s.table == table && s.key == k);
    if let Some(setting) = in_place(key) {
        return Some((setting, false));
    }
    let secret = in_place(key.strip_suffix("_file")?)?;
    secret.from_file().then_some((secret, true))
}

/// A value as its variable would hold it.
fn value_of(
    setting: &'static Setting,
    from_file: bool,
    value: &toml::Value,
    at: &str,
) -> Result<(&'static str, String), String> {
    let text = match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(n) if *n >= 0 => n.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        _ => return Err(format!("{at} must be a string, a number or true/false")),
    };
    if !from_file {
        return Ok((setting.env, text));
    }
    let secret =
        std::fs::read_to_string(&text).map_err(|e| format!("{at}: cannot read {text}: {e}"))?;
    Ok((setting.env, trim_newline(secret)))
}

/// A secret file's content without the newline editors end it with.
fn trim_newline(mut s: String) -> String {
    while s.ends_with('\n') || s.ends_with('\r') {
        s.pop();
    }
    s
}

/// "line N:" for a key of the file, found by its text (TOML's parser keeps no position for
/// the keys of a table it built).
fn line_of(text: &str, table: Option<&str>, key: &str) -> String {
    let mut current: Option<String> = None;
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(name.trim().to_owned());
            continue;
        }
        let starts = line
            .split_once('=')
            .is_some_and(|(k, _)| k.trim().trim_matches('"') == key);
        if starts && current.as_deref() == table {
            return format!("line {}:", number + 1);
        }
    }
    String::new()
}

/// TOML's own message, which says the line and column.
fn describe(error: &toml::de::Error) -> String {
    error
        .to_string()
        .trim_end()
        .replace('\n', " ")
        .replace("  ", " ")
}

/// Puts the file's values, and secrets named by `…_FILE` variables, into the environment
/// where nothing is set yet; says which variables the file set. Call it before any thread
/// reads the environment (before the runtime starts).
pub fn apply(loaded: &Loaded) -> Result<BTreeSet<&'static str>, FileError> {
    let mut from_file = BTreeSet::new();
    for (env, value) in &loaded.values {
        if std::env::var_os(env).is_none() && std::env::var_os(format!("{env}_FILE")).is_none() {
            std::env::set_var(env, value);
            from_file.insert(*env);
        }
    }
    for setting in SETTINGS.iter().filter(|s| s.from_file()) {
        let file_var = format!("{}_FILE", setting.env);
        let Some(path) = std::env::var_os(&file_var).filter(|p| !p.is_empty()) else {
            continue;
        };
        if std::env::var_os(setting.env).is_some() && !from_file.contains(setting.env) {
            continue;
        }
        let secret = std::fs::read_to_string(&path).map_err(|e| FileError {
            path: PathBuf::from(&path).display().to_string(),
            why: format!("{file_var} names it, and it cannot be read: {e}"),
        })?;
        std::env::set_var(setting.env, trim_newline(secret));
        from_file.remove(setting.env);
    }
    Ok(from_file)
}

/// The file this process read its settings from, and the variables it set.
static READ: OnceLock<(PathBuf, BTreeSet<&'static str>)> = OnceLock::new();

/// Notes what `apply` did, for `config check`.
pub fn remember(path: PathBuf, from_file: BTreeSet<&'static str>) {
    let _ = READ.set((path, from_file));
}

pub fn read_from() -> Option<&'static Path> {
    READ.get().map(|(path, _)| path.as_path())
}

/// Whether a variable holds what the settings file said.
pub fn set_by_file(env: &str) -> bool {
    READ.get().is_some_and(|(_, set)| set.contains(env))
}

/// A value as `config check` prints it: secrets masked, a database URL's password too.
pub fn shown(setting: &Setting, value: &str) -> String {
    match setting.sensitivity {
        Sensitivity::Secret => format!("(secret, {} characters)", value.chars().count()),
        Sensitivity::UrlWithPassword => match url::Url::parse(value) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("********"));
                url.to_string()
            }
            _ => value.to_owned(),
        },
        Sensitivity::Plain => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("relay.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn keys_become_their_variables_and_secret_files_are_read() {
        let (dir, path) = write("");
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "s3cr3t\n").unwrap();
        std::fs::write(
            &path,
            format!(
                "database_url = \"postgres://relay@db/relay\"\nbind = \"0.0.0.0:8080\"\n\n\
                 [limits]\nattempts_per_org = 500\n[sources]\nallow_private = true\n\
                 [linkedin]\nclient_id = \"abc\"\nclient_secret_file = \"{}\"\n",
                secret.display()
            ),
        )
        .unwrap();
        let loaded = load(&path).unwrap();
        let get = |env: &str| {
            loaded
                .values
                .iter()
                .find(|(e, _)| *e == env)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("DATABASE_URL"), Some("postgres://relay@db/relay"));
        assert_eq!(get("RELAY_BIND"), Some("0.0.0.0:8080"));
        assert_eq!(get("RELAY_ATTEMPTS_PER_ORG"), Some("500"));
        assert_eq!(get("RELAY_SOURCES_ALLOW_PRIVATE"), Some("true"));
        assert_eq!(get("RELAY_LINKEDIN_CLIENT_SECRET"), Some("s3cr3t"));
    }

    #[test]
    fn an_invalid_file_says_where_and_why() {
        let cases = [
            (
                "bind = \"x\"\n[limits]\nattempts_per_adress = 5\n",
                "line 3: unknown setting [limits] attempts_per_adress",
            ),
            (
                "bind = \"x\"\ncolour = \"blue\"\n",
                "line 2: unknown setting colour",
            ),
            (
                "bind = \"x\"\n[push]\nbatch_secs = [1, 2]\n",
                "line 3: [push] batch_secs must be",
            ),
            ("bind = \"0.0.0.0:80\n", "line 1"),
            (
                "[linkedin]\nclient_secret_file = \"/nonexistent/secret\"\n",
                "line 2: [linkedin] client_secret_file: cannot read",
            ),
            (
                "[push]\nvapid_subject_file = \"/etc/hostname\"\n",
                "unknown setting [push] vapid_subject_file",
            ),
        ];
        for (text, expected) in cases {
            let (_dir, path) = write(text);
            let error = load(&path).unwrap_err().to_string();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }

    #[test]
    fn secrets_and_passwords_are_masked() {
        let secret = SETTINGS.iter().find(|s| s.key == "client_secret").unwrap();
        assert_eq!(shown(secret, "abcd"), "(secret, 4 characters)");
        let database = &SETTINGS[0];
        assert_eq!(
            shown(database, "postgres://relay:hunter2@db:5432/relay"),
            "postgres://relay:********@db:5432/relay"
        );
        assert_eq!(shown(database, "sqlite:relay.db"), "sqlite:relay.db");
    }

    #[test]
    fn the_file_is_named_by_the_flag() {
        let args: Vec<std::ffi::OsString> =
            ["relay-server", "--config", "/etc/relay.toml", "serve"]
                .iter()
                .map(Into::into)
                .collect();
        assert_eq!(named_in(&args), Some(PathBuf::from("/etc/relay.toml")));
        let args: Vec<std::ffi::OsString> = ["relay-server", "serve", "--config=/a.toml"]
            .iter()
            .map(Into::into)
            .collect();
        assert_eq!(named_in(&args), Some(PathBuf::from("/a.toml")));
    }
}
