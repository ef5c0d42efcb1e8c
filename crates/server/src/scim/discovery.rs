//! What the server says of itself (RFC 7644 §4): `ServiceProviderConfig`, `ResourceTypes` and
//! `Schemas`. The schemas list only the attributes Relay keeps, so a directory (or a checker)
//! writes nothing it would not read back; canonical values suggest the codes Relay expects.

use serde_json::{json, Value};

use super::{ENTERPRISE_SCHEMA, USER_SCHEMA};

pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": format!("{base}/console/"),
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": super::query::MAX_COUNT},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A token made by `relay-server scim token --org SLUG`",
            "primary": true
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig")
        }
    })
}

pub fn user_resource_type(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "People of the organisation",
        "schema": USER_SCHEMA,
        "schemaExtensions": [{"schema": ENTERPRISE_SCHEMA, "required": false}],
        "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")}
    })
}

fn attribute(name: &str, kind: &str, description: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": description,
        "required": false,
        "caseExact": false,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none"
    })
}

fn with(mut attribute: Value, changes: Value) -> Value {
    if let (Some(a), Some(c)) = (attribute.as_object_mut(), changes.as_object()) {
        for (k, v) in c {
            a.insert(k.clone(), v.clone());
        }
    }
    attribute
}

/// Country codes suggested for the work address (any two letters are taken).
const COUNTRIES: &[&str] = &[
    "AR", "AT", "AU", "BE", "BR", "CA", "CH", "CL", "CN", "CO", "CZ", "DE", "DK", "ES", "FI", "FR",
    "GB", "GR", "HU", "IE", "IL", "IN", "IT", "JP", "KR", "MA", "MX", "NL", "NO", "NZ", "PL", "PT",
    "RO", "SE", "SG", "TR", "UA", "US", "VN", "ZA",
];

/// Language tags suggested (Relay keeps the language: `fr-CA` is French).
const LANGUAGES: &[&str] = &[
    "en", "fr", "de", "es", "it", "nl", "pt", "pl", "sv", "ja", "zh", "en-US", "en-GB", "fr-FR",
    "fr-CA", "de-DE",
];

pub fn user_schema(base: &str) -> Value {
    let string = |name: &str, description: &str| attribute(name, "string", description);
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": USER_SCHEMA,
        "name": "User",
        "description": "A person of the organisation",
        "attributes": [
            with(string("userName", "The directory's unique name for the person"),
                json!({"required": true, "uniqueness": "server"})),
            with(string("externalId", "The directory's id"), json!({"caseExact": true})),
            with(attribute("name", "complex", "The person's name"), json!({
                "subAttributes": [
                    string("formatted", "The full name"),
                    string("familyName", "The family name"),
                    string("givenName", "The given name"),
                ]
            })),
            string("displayName", "The name shown"),
            with(string("preferredLanguage", "The language the person reads Relay in (a language tag)"),
                json!({"canonicalValues": LANGUAGES})),
            with(attribute("active", "boolean", "false: the person left; their devices are signed out"),
                json!({"required": true})),
            with(attribute("emails", "complex", "The work address people sign in with"), json!({
                "multiValued": true,
                "required": true,
                "subAttributes": [
                    with(string("value", "The address"), json!({"required": true})),
                    with(string("type", "work"), json!({"canonicalValues": ["work"]})),
                ]
            })),
            with(attribute("addresses", "complex", "The work address: its country sets the person's audience"), json!({
                "multiValued": true,
                "subAttributes": [
                    with(string("type", "work"), json!({"canonicalValues": ["work"]})),
                    with(string("country", "ISO 3166-1 alpha-2 country code"),
                        json!({"canonicalValues": COUNTRIES})),
                ]
            })),
        ],
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{USER_SCHEMA}")}
    })
}

pub fn enterprise_schema(base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": ENTERPRISE_SCHEMA,
        "name": "EnterpriseUser",
        "description": "Enterprise user",
        "attributes": [attribute("department", "string", "The person's department (team boards, audiences)")],
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{ENTERPRISE_SCHEMA}")}
    })
}
