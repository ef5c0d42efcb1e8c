//! `PATCH /Users/{id}` (RFC 7644 §3.5.2): operations applied to the user as Relay keeps it,
//! then saved as a whole, so a PATCH is checked exactly as a PUT. Paths Relay keeps:
//! `userName`, `externalId`, `displayName`, `preferredLanguage`, `active`, `name` and its
//! parts, `emails` (or `emails[type eq "work"].value`), `addresses` (or its `country`), and the
//! enterprise extension's `department`.

use serde_json::Value;

use super::error::ScimError;
use super::user::{boolean, field, ScimUser};
use super::{ENTERPRISE_SCHEMA, PATCH_SCHEMA, USER_SCHEMA};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

/// Applies a PatchOp body to `user`.
pub fn apply(user: &mut ScimUser, body: &Value) -> Result<(), ScimError> {
    let object = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("a PatchOp must be a JSON object"))?;
    let declared = field(object, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|s| s.as_str() == Some(PATCH_SCHEMA)));
    if !declared {
        return Err(ScimError::invalid_syntax(format!(
            "a PatchOp's schemas must name {PATCH_SCHEMA}"
        )));
    }
    let operations = field(object, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::invalid_syntax("Operations must be an array"))?;
    for operation in operations {
        let operation = operation
            .as_object()
            .ok_or_else(|| ScimError::invalid_syntax("each operation must be an object"))?;
        let op = match field(operation, "op").and_then(Value::as_str) {
            Some(op) if op.eq_ignore_ascii_case("add") => Op::Add,
            Some(op) if op.eq_ignore_ascii_case("replace") => Op::Replace,
            Some(op) if op.eq_ignore_ascii_case("remove") => Op::Remove,
            _ => {
                return Err(ScimError::invalid_syntax(
                    "op must be add, replace or remove",
                ))
            }
        };
        let value = field(operation, "value");
        match field(operation, "path") {
            Some(Value::String(path)) => set(user, op, path, value)?,
            Some(_) => return Err(ScimError::invalid_path("path must be a string")),
            None if op == Op::Remove => {
                return Err(ScimError::new(
                    axum::http::StatusCode::BAD_REQUEST,
                    Some("noTarget"),
                    "remove needs a path",
                ))
            }
            // No path: the value is an object of attributes.
            None => {
                let attributes = value.and_then(Value::as_object).ok_or_else(|| {
                    ScimError::invalid_value("without a path, the value must be an object")
                })?;
                for (path, value) in attributes {
                    set(user, op, path, Some(value))?;
                }
            }
        }
    }
    Ok(())
}

/// The attribute a path names, with the value filter (`[type eq "work"]`) of a multi-valued
/// one dropped: Relay keeps one address and one country.
fn target(path: &str) -> Result<(String, Option<String>), ScimError> {
    if let Some(rest) = path.strip_prefix(ENTERPRISE_SCHEMA) {
        return match rest {
            "" => Ok((ENTERPRISE_SCHEMA.to_owned(), None)),
            _ => match rest.strip_prefix(':') {
                Some(sub) => Ok((ENTERPRISE_SCHEMA.to_owned(), Some(sub.to_owned()))),
                None => Err(ScimError::invalid_path(format!("unknown path {path:?}"))),
            },
        };
    }
    let path = path
        .strip_prefix(USER_SCHEMA)
        .and_then(|p| p.strip_prefix(':'))
        .unwrap_or(path);
    let (top, rest) = match path.find(['[', '.']) {
        Some(at) => path.split_at(at),
        None => (path, ""),
    };
    let rest = match rest.strip_prefix('[') {
        Some(filtered) => {
            let (_, after) = filtered
                .split_once(']')
                .ok_or_else(|| ScimError::invalid_path(format!("unclosed filter in {path:?}")))?;
            after
        }
        None => rest,
    };
    let sub = match rest.strip_prefix('.') {
        Some(sub) => Some(sub.to_owned()),
        None if rest.is_empty() => None,
        None => {
            return Err(ScimError::invalid_path(format!(
                "cannot read the path {path:?}"
            )))
        }
    };
    Ok((top.to_owned(), sub))
}

fn string(value: Option<&Value>, path: &str) -> Result<Option<String>, ScimError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(ScimError::invalid_value(format!("{path} must be a string"))),
    }
}

fn set(user: &mut ScimUser, op: Op, path: &str, value: Option<&Value>) -> Result<(), ScimError> {
    let (top, sub) = target(path)?;
    let value = if op == Op::Remove { None } else { value };
    if op != Op::Remove && value.is_none() {
        return Err(ScimError::invalid_value(format!(
            "{op:?} {path} needs a value"
        )));
    }
    let top_lower = top.to_ascii_lowercase();
    match (
        top_lower.as_str(),
        sub.as_deref().map(str::to_ascii_lowercase).as_deref(),
    ) {
        ("username", None) => {
            user.user_name = string(value, path)?.ok_or_else(|| {
                ScimError::mutability("userName is required: it cannot be removed")
            })?;
        }
        ("id", _) | ("meta", _) | ("schemas", _) => {
            return Err(ScimError::mutability(format!("{top} cannot be changed")))
        }
        ("externalid", None) => user.external_id = string(value, path)?,
        ("displayname", None) => user.display_name = string(value, path)?,
        ("preferredlanguage", None) => user.preferred_language = string(value, path)?,
        ("active", None) => {
            user.active = match value {
                Some(v) => boolean(v, "active")?,
                None => return Err(ScimError::mutability("active cannot be removed")),
            }
        }
        ("name", None) => user.set_name(value)?,
        ("name", Some("givenname")) => user.given_name = string(value, path)?,
        ("name", Some("familyname")) => user.family_name = string(value, path)?,
        ("name", Some("formatted")) => user.formatted_name = string(value, path)?,
        ("emails", None) => {
            if value.is_none() {
                return Err(ScimError::mutability(
                    "emails cannot be removed: people sign in with their address",
                ));
            }
            user.set_emails(value)?;
        }
        ("emails", Some("value")) => {
            user.email = Some(string(value, path)?.ok_or_else(|| {
                ScimError::mutability("emails cannot be removed: people sign in with their address")
            })?);
        }
        ("addresses", None) => user.set_addresses(value)?,
        ("addresses", Some("country")) => user.country = string(value, path)?,
        (top, None) if top == ENTERPRISE_SCHEMA.to_ascii_lowercase() => {
            user.set_enterprise(value)?
        }
        (top, Some("department")) if top == ENTERPRISE_SCHEMA.to_ascii_lowercase() => {
            user.department = string(value, path)?
        }
        _ => {
            return Err(ScimError::invalid_path(format!(
                "{path:?} is not an attribute Relay keeps"
            )))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> ScimUser {
        ScimUser::from_json(&json!({
            "userName": "ann", "emails": [{"value": "ann@acme.example", "type": "work"}],
            "name": {"givenName": "Ann", "familyName": "Lee"},
            "addresses": [{"type": "work", "country": "FR"}],
        }))
        .unwrap()
    }

    fn patch(operations: Value) -> Value {
        json!({"schemas": [PATCH_SCHEMA], "Operations": operations})
    }

    #[test]
    fn entra_ids_operations_apply() {
        let mut ann = user();
        apply(
            &mut ann,
            &patch(json!([
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "ann.lee@acme.example"},
                {"op": "Replace", "path": "name.familyName", "value": "Lee-Martin"},
                {"op": "Add", "path": "addresses[type eq \"work\"].country", "value": "DE"},
                {"op": "Add", "path": format!("{ENTERPRISE_SCHEMA}:department"), "value": "Sales"},
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Replace", "value": {"displayName": "Ann L.", "externalId": "e-1"}},
            ])),
        )
        .unwrap();
        assert_eq!(ann.email.as_deref(), Some("ann.lee@acme.example"));
        assert_eq!(ann.family_name.as_deref(), Some("Lee-Martin"));
        assert_eq!(ann.country.as_deref(), Some("DE"));
        assert_eq!(ann.department.as_deref(), Some("Sales"));
        assert!(!ann.active);
        assert_eq!(ann.display_name.as_deref(), Some("Ann L."));
        assert_eq!(ann.external_id.as_deref(), Some("e-1"));
        apply(
            &mut ann,
            &patch(
                json!([{"op": "remove", "path": "addresses"}, {"op": "remove", "path": "name"}]),
            ),
        )
        .unwrap();
        assert_eq!((ann.country.clone(), ann.given_name.clone()), (None, None));
    }

    #[test]
    fn what_cannot_be_done_says_why() {
        for (operations, scim_type) in [
            (
                json!([{"op": "replace", "path": "title", "value": "x"}]),
                "invalidPath",
            ),
            (json!([{"op": "remove", "path": "userName"}]), "mutability"),
            (json!([{"op": "remove", "path": "emails"}]), "mutability"),
            (
                json!([{"op": "replace", "path": "id", "value": "x"}]),
                "mutability",
            ),
            (
                json!([{"op": "move", "path": "userName", "value": "x"}]),
                "invalidSyntax",
            ),
            (json!([{"op": "remove"}]), "noTarget"),
            (
                json!([{"op": "replace", "path": "active", "value": 3}]),
                "invalidValue",
            ),
            (json!({"op": "replace"}), "invalidSyntax"),
        ] {
            let mut ann = user();
            let err = apply(&mut ann, &patch(operations.clone())).unwrap_err();
            assert_eq!(err.scim_type, Some(scim_type), "{operations}: {err:?}");
        }
        let err = apply(&mut user(), &json!({"Operations": []})).unwrap_err();
        assert_eq!(err.scim_type, Some("invalidSyntax"));
    }
}
