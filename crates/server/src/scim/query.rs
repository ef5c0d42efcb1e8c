//! What a list request asks (RFC 7644 §3.4.2): the filter Relay answers (`userName`,
//! `externalId`, `id` or `emails.value`, compared with `eq`, which is what directories send to
//! match a user), paging, and which attributes to return.

use serde_json::{Map, Value};

use super::error::ScimError;
use super::{ENTERPRISE_SCHEMA, USER_SCHEMA};

/// A filter Relay answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    UserName(String),
    ExternalId(String),
    Id(String),
    Email(String),
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, ScimError> {
        let text = text.trim();
        let (attribute, rest) = text
            .split_once(char::is_whitespace)
            .ok_or_else(|| ScimError::invalid_filter(format!("cannot read the filter {text:?}")))?;
        let (operator, value) = rest
            .trim_start()
            .split_once(char::is_whitespace)
            .ok_or_else(|| ScimError::invalid_filter(format!("cannot read the filter {text:?}")))?;
        if !operator.eq_ignore_ascii_case("eq") {
            return Err(ScimError::invalid_filter(format!(
                "the operator {operator:?} is not supported: Relay answers `eq` filters on userName, externalId, id and emails.value"
            )));
        }
        let value: Value = serde_json::from_str(value.trim()).map_err(|_| {
            ScimError::invalid_filter(format!("the value in {text:?} must be a quoted string"))
        })?;
        let value = value.as_str().map(str::to_owned).ok_or_else(|| {
            ScimError::invalid_filter(format!("the value in {text:?} must be a quoted string"))
        })?;
        let attribute = attribute
            .strip_prefix(USER_SCHEMA)
            .and_then(|a| a.strip_prefix(':'))
            .unwrap_or(attribute);
        match attribute.to_ascii_lowercase().as_str() {
            "username" => Ok(Filter::UserName(value)),
            "externalid" => Ok(Filter::ExternalId(value)),
            "id" => Ok(Filter::Id(value)),
            "emails.value" | "emails" => Ok(Filter::Email(value)),
            _ => Err(ScimError::invalid_filter(format!(
                "filtering on {attribute:?} is not supported: Relay answers `eq` filters on userName, externalId, id and emails.value"
            ))),
        }
    }
}

/// At most this many users a page.
pub const MAX_COUNT: i64 = 200;

/// `startIndex` (1-based) and `count`, bounded.
pub fn paging(start_index: Option<i64>, count: Option<i64>) -> (i64, i64) {
    let start = start_index.unwrap_or(1).max(1);
    let count = count.unwrap_or(100).clamp(0, MAX_COUNT);
    (start, count)
}

/// An attribute named in `attributes` or `excludedAttributes`: a top-level key of the
/// resource, with a sub-attribute maybe.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Named {
    top: String,
    sub: Option<String>,
}

fn named(list: &str) -> Vec<Named> {
    list.split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| {
            if let Some(rest) = a.strip_prefix(ENTERPRISE_SCHEMA) {
                let sub = rest.strip_prefix(':').map(str::to_owned);
                return Named {
                    top: ENTERPRISE_SCHEMA.to_owned(),
                    sub,
                };
            }
            let a = a
                .strip_prefix(USER_SCHEMA)
                .and_then(|r| r.strip_prefix(':'))
                .unwrap_or(a);
            match a.split_once('.') {
                Some((top, sub)) => Named {
                    top: top.to_owned(),
                    sub: Some(sub.to_owned()),
                },
                None => Named {
                    top: a.to_owned(),
                    sub: None,
                },
            }
        })
        .collect()
}

/// Attributes always returned (RFC 7643 §7: `returned: always`).
const ALWAYS: [&str; 2] = ["id", "schemas"];

fn sub_keep(value: &mut Value, keep: &[&str]) {
    let trim = |object: &mut Map<String, Value>| {
        object.retain(|k, _| keep.iter().any(|s| s.eq_ignore_ascii_case(k)));
    };
    match value {
        Value::Object(object) => trim(object),
        Value::Array(items) => items
            .iter_mut()
            .filter_map(Value::as_object_mut)
            .for_each(trim),
        _ => {}
    }
}

fn sub_drop(value: &mut Value, drop: &str) {
    let trim = |object: &mut Map<String, Value>| {
        object.retain(|k, _| !k.eq_ignore_ascii_case(drop));
    };
    match value {
        Value::Object(object) => trim(object),
        Value::Array(items) => items
            .iter_mut()
            .filter_map(Value::as_object_mut)
            .for_each(trim),
        _ => {}
    }
}

/// Keeps what `attributes` asks (with `id` and `schemas`), or drops what `excludedAttributes`
/// names; `attributes` wins when both are given.
pub fn project(resource: &mut Value, attributes: Option<&str>, excluded: Option<&str>) {
    let Some(object) = resource.as_object_mut() else {
        return;
    };
    if let Some(list) = attributes.filter(|l| !l.trim().is_empty()) {
        let wanted = named(list);
        object.retain(|key, _| {
            ALWAYS.contains(&key.as_str()) || wanted.iter().any(|w| w.top.eq_ignore_ascii_case(key))
        });
        for (key, value) in object.iter_mut() {
            let subs: Vec<&str> = wanted
                .iter()
                .filter(|w| w.top.eq_ignore_ascii_case(key))
                .map(|w| w.sub.as_deref())
                .collect::<Option<Vec<&str>>>()
                .unwrap_or_default();
            if !subs.is_empty() {
                sub_keep(value, &subs);
            }
        }
    } else if let Some(list) = excluded {
        for named in named(list) {
            if ALWAYS.contains(&named.top.as_str()) {
                continue;
            }
            match &named.sub {
                None => object.retain(|k, _| !k.eq_ignore_ascii_case(&named.top)),
                Some(sub) => {
                    if let Some((_, value)) = object
                        .iter_mut()
                        .find(|(k, _)| k.eq_ignore_ascii_case(&named.top))
                    {
                        sub_drop(value, sub);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_directories_send_are_read_and_others_refused() {
        assert_eq!(
            Filter::parse(r#"userName eq "Test_User_dfeef4c5""#).unwrap(),
            Filter::UserName("Test_User_dfeef4c5".into())
        );
        assert_eq!(
            Filter::parse(r#"externalId EQ "a \"quoted\" id""#).unwrap(),
            Filter::ExternalId("a \"quoted\" id".into())
        );
        assert_eq!(
            Filter::parse(&format!(r#"{USER_SCHEMA}:userName eq "x""#)).unwrap(),
            Filter::UserName("x".into())
        );
        for bad in [
            r#"userName co "x""#,
            r#"title eq "x""#,
            "userName eq x",
            "userName",
            r#"userName eq "x" and active eq true"#,
        ] {
            let err = Filter::parse(bad).unwrap_err();
            assert_eq!(err.scim_type, Some("invalidFilter"), "{bad}");
        }
    }

    #[test]
    fn attributes_keep_and_excluded_attributes_drop() {
        let user = json!({
            "schemas": ["s"], "id": "1", "userName": "u", "displayName": "d",
            "name": {"givenName": "g", "familyName": "f"},
            ENTERPRISE_SCHEMA: {"department": "Sales"},
        });
        let mut kept = user.clone();
        project(&mut kept, Some("userName,name.givenName"), None);
        assert_eq!(
            kept,
            json!({"schemas": ["s"], "id": "1", "userName": "u", "name": {"givenName": "g"}})
        );
        let mut dropped = user.clone();
        project(
            &mut dropped,
            None,
            Some(&format!("displayName,id,{ENTERPRISE_SCHEMA}:department")),
        );
        assert_eq!(dropped["id"], "1");
        assert!(dropped.get("displayName").is_none());
        assert_eq!(dropped[ENTERPRISE_SCHEMA], json!({}));
    }
}
