//! The console's TypeScript types, generated from the OpenAPI document's schemas
//! (`console/src/lib/api.gen.ts`, committed; the test below fails when it is stale, as the
//! app's `ui/src/bindings.ts` does). Only the JSON Schema forms the document uses are known;
//! any other form fails the generation rather than turning into `any`.
//!
//! The types say what the server sends. One schema describes a request and an answer, and an
//! `Option` field is "not required" because a request may leave it out; but an answer always
//! carries it, `null` when empty. So a field that is not required but may be null is `T |
//! null`; a field that is not required and never null is `field?: T` (the few the server
//! leaves out when empty are marked `nullable = false` in relay-protocol).

use std::fmt::Write;

use serde_json::{Map, Value};

/// Where the generated file lives, from this crate's folder.
pub const CONSOLE_TYPES: &str = "../../console/src/lib/api.gen.ts";

/// The TypeScript declarations for every schema of `doc` (an OpenAPI 3.1 document as JSON).
pub fn typescript(doc: &Value) -> Result<String, String> {
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .ok_or("the document has no components.schemas")?;
    let mut out = String::from(
        "// Generated from relay-server's OpenAPI document (GET /v1/openapi.json): do not edit.\n\
         // Regenerate with `RELAY_WRITE_BINDINGS=1 cargo test -p relay-server --lib console_types`.\n",
    );
    let mut names: Vec<&String> = schemas.keys().collect();
    names.sort();
    for name in names {
        let schema = &schemas[name];
        out.push('\n');
        if let Some(doc) = schema.get("description").and_then(Value::as_str) {
            doc_comment(&mut out, doc, "");
        }
        match object_body(schema, "")? {
            Some(body) => writeln!(out, "export interface {name} {body}").unwrap(),
            None => writeln!(out, "export type {name} = {};", type_of(schema, "")?).unwrap(),
        }
    }
    Ok(out)
}

fn doc_comment(out: &mut String, text: &str, indent: &str) {
    let lines: Vec<&str> = text.trim().lines().collect();
    if let [line] = lines.as_slice() {
        writeln!(out, "{indent}/** {} */", line.trim()).unwrap();
        return;
    }
    writeln!(out, "{indent}/**").unwrap();
    for line in lines {
        writeln!(out, "{indent} * {}", line.trim_end()).unwrap();
    }
    writeln!(out, "{indent} */").unwrap();
}

/// `{ field: type; … }` for a plain object schema, `None` for anything else.
fn object_body(schema: &Value, indent: &str) -> Result<Option<String>, String> {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Ok(None);
    };
    if schema.get("type").and_then(Value::as_str) != Some("object")
        || schema
            .get("additionalProperties")
            .is_some_and(|a| a != false)
    {
        return Ok(None);
    }
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let inner = format!("{indent}  ");
    let mut body = String::from("{\n");
    for (field, field_schema) in properties {
        if let Some(doc) = field_schema.get("description").and_then(Value::as_str) {
            doc_comment(&mut body, doc, &inner);
        }
        let optional = if required.contains(&field.as_str()) || nullable(field_schema) {
            ""
        } else {
            "?"
        };
        let ty = type_of(field_schema, &inner)?;
        writeln!(body, "{inner}{}{optional}: {ty};", property_name(field)).unwrap();
    }
    body.push_str(indent);
    body.push('}');
    Ok(Some(body))
}

/// Whether a schema admits `null` (an `Option` the server sends as `null` when empty).
fn nullable(schema: &Value) -> bool {
    let is_null = |s: &Value| s.get("type").and_then(Value::as_str) == Some("null");
    match schema.get("type") {
        Some(Value::Array(types)) => types.iter().any(|t| t == "null"),
        _ => ["oneOf", "anyOf"].iter().any(|combinator| {
            schema
                .get(*combinator)
                .and_then(Value::as_array)
                .is_some_and(|variants| variants.iter().any(is_null))
        }),
    }
}

fn property_name(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("{name:?}")
    }
}

fn type_of(schema: &Value, indent: &str) -> Result<String, String> {
    let Some(object) = schema.as_object() else {
        return match schema {
            Value::Bool(true) => Ok("unknown".into()),
            other => Err(format!("unknown schema {other}")),
        };
    };
    if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
        return reference
            .strip_prefix("#/components/schemas/")
            .map(str::to_string)
            .ok_or_else(|| format!("unknown reference {reference}"));
    }
    for combinator in ["oneOf", "anyOf"] {
        if let Some(variants) = object.get(combinator).and_then(Value::as_array) {
            return union(variants, indent);
        }
    }
    if let Some(parts) = object.get("allOf").and_then(Value::as_array) {
        let parts = parts
            .iter()
            .map(|part| type_of(part, indent))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(parts.join(" & "));
    }
    if let Some(values) = object.get("enum").and_then(Value::as_array) {
        return Ok(values
            .iter()
            .map(|value| value.to_string())
            .collect::<Vec<_>>()
            .join(" | "));
    }
    if let Some(value) = object.get("const") {
        return Ok(value.to_string());
    }
    let types: Vec<&str> = match object.get("type") {
        None => return Ok("unknown".into()),
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        Some(other) => return Err(format!("unknown type {other}")),
    };
    let mut out = Vec::new();
    for ty in types {
        out.push(match ty {
            "string" => "string".to_string(),
            "integer" | "number" => "number".to_string(),
            "boolean" => "boolean".to_string(),
            "null" => "null".to_string(),
            "array" => match object.get("items") {
                Some(items) => array_of(&type_of(items, indent)?),
                None => "unknown[]".to_string(),
            },
            "object" => object_type(object, indent)?,
            other => return Err(format!("unknown type {other}")),
        });
    }
    Ok(out.join(" | "))
}

fn array_of(item: &str) -> String {
    if item.contains(' ') {
        format!("({item})[]")
    } else {
        format!("{item}[]")
    }
}

fn object_type(object: &Map<String, Value>, indent: &str) -> Result<String, String> {
    if let Some(body) = object_body(&Value::Object(object.clone()), indent)? {
        return Ok(body);
    }
    match object.get("additionalProperties") {
        Some(Value::Bool(false)) => Ok("Record<string, never>".into()),
        Some(values) => Ok(format!("Record<string, {}>", type_of(values, indent)?)),
        None => Ok("Record<string, unknown>".into()),
    }
}

/// A `oneOf`: `T | null` for an option, else each variant (tagged enums are objects).
fn union(variants: &[Value], indent: &str) -> Result<String, String> {
    let parts = variants
        .iter()
        .map(|variant| match object_body(variant, indent)? {
            Some(body) => Ok(body),
            None => type_of(variant, indent),
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(parts.join(" | "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn console_types_are_current() {
        let doc = serde_json::to_value(crate::app::openapi()).unwrap();
        let generated = typescript(&doc).unwrap();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(CONSOLE_TYPES);
        if std::env::var_os("RELAY_WRITE_BINDINGS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "console/src/lib/api.gen.ts is stale: run \
             `RELAY_WRITE_BINDINGS=1 cargo test -p relay-server --lib console_types` and commit it"
        );
    }

    #[test]
    fn the_schema_forms_become_their_typescript() {
        let doc = json!({"components": {"schemas": {
            "Kind": {"type": "string", "enum": ["a", "b"]},
            "Thing": {
                "type": "object",
                "description": "A thing.",
                "required": ["id", "tags", "kind", "maybe"],
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "kind": {"$ref": "#/components/schemas/Kind"},
                    "maybe": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Kind"}]},
                    "count": {"type": ["integer", "null"]},
                    "left_out": {"type": "integer"},
                    "names": {"type": "object", "additionalProperties": {"type": "string"}},
                    "either": {"type": "array", "items": {"type": ["string", "null"]}}
                }
            }
        }}});
        let ts = typescript(&doc).unwrap();
        assert!(ts.contains("export type Kind = \"a\" | \"b\";"), "{ts}");
        assert!(
            ts.contains("/** A thing. */\nexport interface Thing {"),
            "{ts}"
        );
        for line in [
            "  id: string;",
            "  tags: string[];",
            "  kind: Kind;",
            "  maybe: null | Kind;",
            "  count: number | null;",
            "  names?: Record<string, string>;",
            "  either?: (string | null)[];",
            "  left_out?: number;",
        ] {
            assert!(ts.contains(&format!("{line}\n")), "{line} in {ts}");
        }
    }

    #[test]
    fn an_unknown_form_is_refused_not_guessed() {
        let doc = json!({"components": {"schemas": {"X": {"type": "tuple"}}}});
        assert!(typescript(&doc).unwrap_err().contains("tuple"));
    }
}
