//! The SCIM User as Relay keeps it: what the directory wrote (`userName`, `externalId`, the
//! name's parts, `displayName`, the work address's country, `preferredLanguage`) and what
//! Relay uses of it (the person's name, e-mail address, country, language, department, whether
//! they are active). Read from the directory's JSON (attribute names in any case, as RFC 7643
//! §2.1 wants), written back in the core and enterprise schemas.

use serde_json::{json, Map, Value};

use super::error::ScimError;
use super::{ENTERPRISE_SCHEMA, USER_SCHEMA};
use crate::content::sanitize;

/// A user as the directory describes it (every field optional but `userName`). Relay keeps one
/// e-mail address and one work country: written back as the only entry of each list (without
/// `primary`, which a list of one does not need).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScimUser {
    pub user_name: String,
    pub external_id: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub formatted_name: Option<String>,
    pub display_name: Option<String>,
    /// The work (or primary, or only) e-mail address.
    pub email: Option<String>,
    /// The work address's country.
    pub country: Option<String>,
    pub preferred_language: Option<String>,
    pub department: Option<String>,
    pub active: bool,
}

/// What Relay makes of a user: a person's fields.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonFields {
    pub name: String,
    pub email: String,
    pub country: String,
    pub language: String,
    pub department: String,
    pub active: bool,
}

/// A key of `object` compared without regard to case.
pub fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
}

fn text(value: Option<&Value>, name: &str) -> Result<Option<String>, ScimError> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(ScimError::invalid_value(format!("{name} must be a string"))),
    }
}

/// `true`, `false`, or the strings Entra ID has been known to send.
pub fn boolean(value: &Value, name: &str) -> Result<bool, ScimError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ScimError::invalid_value(format!(
            "{name} must be true or false"
        ))),
    }
}

/// The entry of a multi-valued attribute Relay keeps: the primary one, else the `work` one,
/// else the only one.
fn chosen(values: &[Value]) -> Option<&Map<String, Value>> {
    let objects: Vec<&Map<String, Value>> = values.iter().filter_map(Value::as_object).collect();
    let primary = objects
        .iter()
        .find(|o| field(o, "primary").is_some_and(|p| boolean(p, "primary").unwrap_or(false)));
    let work = objects.iter().find(|o| {
        field(o, "type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case("work"))
    });
    primary.or(work).or(objects.first()).copied()
}

impl ScimUser {
    /// Reads a whole user (POST, PUT). `active` is true unless said otherwise.
    pub fn from_json(body: &Value) -> Result<ScimUser, ScimError> {
        let object = body
            .as_object()
            .ok_or_else(|| ScimError::invalid_syntax("a User must be a JSON object"))?;
        let mut user = ScimUser {
            active: true,
            ..ScimUser::default()
        };
        user.user_name = text(field(object, "userName"), "userName")?
            .ok_or_else(|| ScimError::invalid_value("userName is required"))?;
        user.external_id = text(field(object, "externalId"), "externalId")?;
        user.set_name(field(object, "name"))?;
        user.display_name = text(field(object, "displayName"), "displayName")?;
        user.set_emails(field(object, "emails"))?;
        user.set_addresses(field(object, "addresses"))?;
        user.preferred_language = text(field(object, "preferredLanguage"), "preferredLanguage")?;
        if let Some(active) = field(object, "active") {
            user.active = boolean(active, "active")?;
        }
        if let Some(extension) = field(object, ENTERPRISE_SCHEMA) {
            user.set_enterprise(Some(extension))?;
        }
        Ok(user)
    }

    pub fn set_name(&mut self, value: Option<&Value>) -> Result<(), ScimError> {
        let name = match value {
            None => Map::new(),
            Some(Value::Object(name)) => name.clone(),
            Some(_) => return Err(ScimError::invalid_value("name must be an object")),
        };
        self.given_name = text(field(&name, "givenName"), "name.givenName")?;
        self.family_name = text(field(&name, "familyName"), "name.familyName")?;
        self.formatted_name = text(field(&name, "formatted"), "name.formatted")?;
        Ok(())
    }

    pub fn set_emails(&mut self, value: Option<&Value>) -> Result<(), ScimError> {
        self.email = match value {
            None => None,
            Some(Value::Array(values)) => match chosen(values) {
                Some(email) => text(field(email, "value"), "emails.value")?,
                None => None,
            },
            Some(_) => return Err(ScimError::invalid_value("emails must be an array")),
        };
        Ok(())
    }

    pub fn set_addresses(&mut self, value: Option<&Value>) -> Result<(), ScimError> {
        self.country = match value {
            None => None,
            Some(Value::Array(values)) => match chosen(values) {
                Some(address) => text(field(address, "country"), "addresses.country")?,
                None => None,
            },
            Some(_) => return Err(ScimError::invalid_value("addresses must be an array")),
        };
        Ok(())
    }

    pub fn set_enterprise(&mut self, value: Option<&Value>) -> Result<(), ScimError> {
        self.department = match value {
            None => None,
            Some(Value::Object(extension)) => text(field(extension, "department"), "department")?,
            Some(_) => {
                return Err(ScimError::invalid_value(
                    "the enterprise extension must be an object",
                ))
            }
        };
        Ok(())
    }

    /// What Relay keeps of this user, checked: a valid work address (from `emails`, or a
    /// `userName` that is one), a two-letter country, a language. Missing country and
    /// language take the defaults.
    pub fn person(&self, defaults: (&str, &str)) -> Result<PersonFields, ScimError> {
        let email = self
            .email
            .clone()
            .or_else(|| self.user_name.contains('@').then(|| self.user_name.clone()))
            .ok_or_else(|| {
                ScimError::invalid_value(
                    "a work e-mail address is required (emails, or a userName that is one): people sign in with it",
                )
            })?;
        let email = crate::people::email(&email)
            .map_err(|_| ScimError::invalid_value(format!("{email} is not an e-mail address")))?;
        let composed = match (&self.given_name, &self.family_name) {
            (Some(given), Some(family)) => Some(format!("{given} {family}")),
            (Some(one), None) | (None, Some(one)) => Some(one.clone()),
            (None, None) => None,
        };
        let name = self
            .formatted_name
            .clone()
            .or(composed)
            .or_else(|| self.display_name.clone())
            .unwrap_or_else(|| self.user_name.clone());
        let name = sanitize::text("name", &name, 1, 200).map_err(invalid)?;
        let country = match &self.country {
            Some(country) => sanitize::country("addresses.country", country).map_err(invalid)?,
            None => defaults.0.to_owned(),
        };
        let language = match &self.preferred_language {
            // A language tag (`fr-CA`): Relay keeps its language.
            Some(tag) => {
                let primary = tag.split(['-', '_']).next().unwrap_or_default();
                sanitize::language("preferredLanguage", primary).map_err(invalid)?
            }
            None => defaults.1.to_owned(),
        };
        let department = sanitize::text(
            "department",
            self.department.as_deref().unwrap_or_default(),
            0,
            100,
        )
        .map_err(invalid)?;
        Ok(PersonFields {
            name,
            email,
            country,
            language,
            department,
            active: self.active,
        })
    }

    /// The resource as the directory reads it (`meta` by the caller).
    pub fn to_json(&self, id: &str, email: &str) -> Value {
        let mut user = json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
            "id": id,
            "userName": self.user_name,
            "active": self.active,
            "emails": [{"value": email, "type": "work"}],
        });
        let object = user.as_object_mut().expect("an object");
        let mut put = |key: &str, value: &Option<String>| {
            if let Some(value) = value {
                object.insert(key.to_owned(), Value::String(value.clone()));
            }
        };
        put("externalId", &self.external_id);
        put("displayName", &self.display_name);
        put("preferredLanguage", &self.preferred_language);
        let mut name = Map::new();
        for (key, value) in [
            ("givenName", &self.given_name),
            ("familyName", &self.family_name),
            ("formatted", &self.formatted_name),
        ] {
            if let Some(value) = value {
                name.insert(key.to_owned(), Value::String(value.clone()));
            }
        }
        if !name.is_empty() {
            object.insert("name".into(), Value::Object(name));
        }
        if let Some(country) = &self.country {
            object.insert(
                "addresses".into(),
                json!([{"type": "work", "country": country}]),
            );
        }
        if let Some(department) = &self.department {
            object.insert(
                ENTERPRISE_SCHEMA.into(),
                json!({ "department": department }),
            );
        }
        user
    }
}

fn invalid(err: crate::error::ApiError) -> ScimError {
    ScimError::invalid_value(err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entra_ids_user_is_read_whatever_the_case_of_its_names() {
        let body = json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
            "externalId": "0a21f0f2",
            "UserName": "Test_User_ab64",
            "active": "True",
            "emails": [{"primary": true, "type": "work", "value": "Ann.Lee@Contoso.example"}],
            "name": {"formatted": "Ann Lee", "familyName": "Lee", "givenName": "Ann"},
            "addresses": [{"type": "work", "country": "fr"}],
            "preferredLanguage": "fr-CA",
            ENTERPRISE_SCHEMA: {"department": "Sales"},
            "roles": []
        });
        let user = ScimUser::from_json(&body).unwrap();
        assert_eq!(user.user_name, "Test_User_ab64");
        let person = user.person(("US", "en")).unwrap();
        assert_eq!(
            person,
            PersonFields {
                name: "Ann Lee".into(),
                email: "ann.lee@contoso.example".into(),
                country: "FR".into(),
                language: "fr".into(),
                department: "Sales".into(),
                active: true,
            }
        );
        // Written back as it was written.
        let back = ScimUser::from_json(&user.to_json("p1", &person.email)).unwrap();
        assert_eq!(back.preferred_language.as_deref(), Some("fr-CA"));
        assert_eq!(back.department.as_deref(), Some("Sales"));
    }

    #[test]
    fn what_relay_cannot_use_is_refused_with_why() {
        let refused = |body: Value| ScimUser::from_json(&body).and_then(|u| u.person(("US", "en")));
        let err = refused(json!({"userName": "no-address"})).unwrap_err();
        assert!(err.detail.contains("e-mail"), "{err:?}");
        let err = refused(json!({"userName": "a@b.example", "addresses": [{"country": "France"}]}))
            .unwrap_err();
        assert!(err.detail.contains("country"), "{err:?}");
        let err = refused(json!({"userName": "a@b.example", "active": "maybe"})).unwrap_err();
        assert_eq!(err.scim_type, Some("invalidValue"));
        let err = refused(json!({"userName": ["a@b.example"]})).unwrap_err();
        assert!(err.detail.contains("userName"));
        let err =
            refused(json!({"emails": {"value": "a@b.example"}, "userName": "x"})).unwrap_err();
        assert!(err.detail.contains("array"));
        // A minimal user: defaults for the rest.
        let person = refused(json!({"userName": "a@b.example"})).unwrap();
        assert_eq!(
            (person.country.as_str(), person.language.as_str()),
            ("US", "en")
        );
        assert_eq!(person.name, "a@b.example");
    }
}
