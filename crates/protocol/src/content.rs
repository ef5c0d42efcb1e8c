use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

crate::wire_enum! {
    /// The social networks an employee can share to.
    Network {
        Linkedin = "linkedin",
        X = "x",
        Mastodon = "mastodon",
        Bluesky = "bluesky",
        Facebook = "facebook",
    }
}

crate::wire_enum! {
    /// What a piece of curated content is.
    ContentKind {
        Article = "article",
        Video = "video",
        SocialPost = "social_post",
        Ad = "ad",
    }
}

crate::wire_enum! {
    /// Where content stands in curation. Only approved content reaches employees, from its
    /// publish time until its expiry.
    ContentState {
        Draft = "draft",
        Approved = "approved",
        Retracted = "retracted",
    }
}

/// Who may see a content item. Each list empty means "everyone" for that attribute; a person
/// sees the item when every non-empty list contains their attribute.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Audience {
    #[serde(default)]
    pub countries: Vec<String>,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub departments: Vec<String>,
}

impl Audience {
    /// Whether a person with these attributes is in the audience.
    pub fn includes(&self, country: &str, language: &str, department: &str) -> bool {
        fn allows(list: &[String], value: &str) -> bool {
            list.is_empty() || list.iter().any(|v| v.eq_ignore_ascii_case(value))
        }
        allows(&self.countries, country)
            && allows(&self.languages, language)
            && allows(&self.departments, department)
    }

    pub fn is_everyone(&self) -> bool {
        self.countries.is_empty() && self.languages.is_empty() && self.departments.is_empty()
    }
}

/// A share text the curators suggest for one network in one language. Employees start from it
/// and are encouraged to make it their own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SuggestedText {
    pub network: Network,
    pub language: String,
    pub text: String,
}

/// A topic content is filed under ("Corporate news", "Careers"...), named in each language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Channel {
    pub id: String,
    pub slug: String,
    /// Display names by language code (`{"en": "Careers", "fr": "Carrières"}`).
    pub names: BTreeMap<String, String>,
}

/// Body of `POST /v1/channels`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewChannel {
    pub slug: String,
    pub names: BTreeMap<String, String>,
}

/// A content item as employees receive it: approved, published, unexpired, and meant for them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Item {
    pub id: String,
    pub kind: ContentKind,
    pub channel_id: String,
    pub title: String,
    pub summary: String,
    /// Sanitised HTML (no script, no event handlers, no `javascript:` links).
    pub body_html: String,
    /// The canonical URL shared to social networks.
    pub url: String,
    pub image_url: Option<String>,
    pub language: String,
    pub suggested_texts: Vec<SuggestedText>,
    pub published_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// The feed version of this revision: a later revision of the item has a larger one.
    pub version: i64,
}

/// Body of `POST /v1/content`: a new draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewContent {
    pub kind: ContentKind,
    pub channel_id: String,
    pub title: String,
    #[serde(default)]
    pub summary: String,
    /// HTML; sanitised on the way in.
    #[serde(default)]
    pub body_html: String,
    pub url: String,
    #[serde(default)]
    pub image_url: Option<String>,
    pub language: String,
    #[serde(default)]
    pub suggested_texts: Vec<SuggestedText>,
    #[serde(default)]
    pub audience: Audience,
    /// When it reaches employees once approved; approval time when absent.
    #[serde(default)]
    pub publish_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Body of `PATCH /v1/content/{id}`: only the fields present change. Draft or approved content
/// can be edited; approved content stays approved and employees receive the edit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ContentUpdate {
    pub kind: Option<ContentKind>,
    pub channel_id: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub body_html: Option<String>,
    pub url: Option<String>,
    /// `Some(None)` (JSON `null`) removes the image.
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub image_url: Option<Option<String>>,
    pub language: Option<String>,
    pub suggested_texts: Option<Vec<SuggestedText>>,
    pub audience: Option<Audience>,
    pub publish_at: Option<DateTime<Utc>>,
    /// `Some(None)` (JSON `null`) removes the expiry.
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<DateTime<Utc>>))]
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

/// Body of `POST /v1/content/{id}/retract`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RetractRequest {
    /// Why, shown to employees whose queued shares of it are cancelled.
    #[serde(default)]
    pub reason: String,
}

/// A content item as curators see it: everything, in any state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CuratedContent {
    #[serde(flatten)]
    pub item: Item,
    pub state: ContentState,
    pub audience: Audience,
    /// The requested publish time (the item's `published_at` once approved).
    pub publish_at: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub retracted_reason: Option<String>,
    /// Whether employees in its audience receive it right now.
    pub live: bool,
    /// The source it was gathered from (`GET /v1/sources/{id}`); none when written by hand.
    #[serde(default)]
    pub source_id: Option<String>,
}

/// One line of the curation audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// The person who acted, or `None` for the command line and the publication clock.
    pub actor_id: Option<String>,
    /// `content.create`, `content.edit`, `content.approve`, `content.retract`, `person.add`...
    pub action: String,
    pub subject_id: String,
    pub detail: serde_json::Value,
}

/// Distinguishes "field absent" from "field null" in PATCH bodies.
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        value: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            None => s.serialize_none(),
            Some(inner) => inner.serialize(s),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_audience_is_everyone_and_lists_narrow_it() {
        let everyone = Audience::default();
        assert!(everyone.includes("FR", "fr", "Sales"));
        let french_sales = Audience {
            countries: vec!["FR".into(), "BE".into()],
            languages: vec![],
            departments: vec!["Sales".into()],
        };
        assert!(french_sales.includes("BE", "nl", "sales"));
        assert!(!french_sales.includes("DE", "de", "Sales"));
        assert!(!french_sales.includes("FR", "fr", "Engineering"));
    }

    #[test]
    fn patch_tells_null_from_absent() {
        let absent: ContentUpdate = serde_json::from_str(r#"{"title":"t"}"#).unwrap();
        assert_eq!(absent.image_url, None);
        let null: ContentUpdate = serde_json::from_str(r#"{"image_url":null}"#).unwrap();
        assert_eq!(null.image_url, Some(None));
    }
}
