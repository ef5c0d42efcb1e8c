//! The programme's analytics, as the console reads them. Figures describe groups of people,
//! never a person: any group of fewer than [`MIN_GROUP`] people is hidden (`None`, shown as
//! "fewer than 5"), and enough other groups with it that no subtraction reveals it.

use serde::{Deserialize, Serialize};

/// The smallest number of people any figure may describe.
pub const MIN_GROUP: u64 = 5;

/// One month of the programme, organisation-wide. `None`: fewer than 5 people behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonthFigures {
    /// `YYYY-MM`, in the organisation's time zone.
    pub month: String,
    /// Active people with a device enrolled during the month.
    pub enrolled: Option<u64>,
    /// People who shared at least once (withdrawn records not counted).
    pub sharers: Option<u64>,
    /// `sharers / enrolled`.
    pub sharer_rate: Option<f64>,
    pub shares: Option<u64>,
    pub verified: Option<u64>,
    pub declared: Option<u64>,
    /// `shares / sharers`.
    pub shares_per_sharer: Option<f64>,
    /// Unique clicks on the tracked links of the month's shares.
    pub clicks: Option<u64>,
    /// `clicks / shares`.
    pub click_through: Option<f64>,
    /// Estimated reach: the followers of the accounts the shares went out from, summed over the
    /// shares whose network gave the count.
    #[serde(default)]
    pub reach: Option<u64>,
    /// Shares whose reach is unknown (LinkedIn gives no count; share pages none either).
    #[serde(default)]
    pub reach_unknown: Option<u64>,
    /// People who opened at least one item.
    pub consulters: Option<u64>,
    /// `consulters / enrolled`.
    pub consult_rate: Option<f64>,
}

crate::wire_enum! {
    /// What a breakdown groups shares by.
    Dimension {
        Channel = "channel",
        Network = "network",
        Language = "language",
        Country = "country",
        Department = "department",
        /// Per content item: its sharers, shares, clicks and reads.
        Content = "content",
    }
}

/// One group of a breakdown. Hidden groups carry no figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupFigures {
    /// The channel's id, the network, the language, country or department.
    pub key: String,
    /// Fewer than 5 people, or hidden with such a group so that it cannot be subtracted out.
    pub hidden: bool,
    pub people: Option<u64>,
    pub shares: Option<u64>,
    pub verified: Option<u64>,
    pub declared: Option<u64>,
    pub clicks: Option<u64>,
    /// Estimated reach of the group's shares whose reach is known, and how many are not.
    #[serde(default)]
    pub reach: Option<u64>,
    #[serde(default)]
    pub reach_unknown: Option<u64>,
    /// What the key names, where the server knows it better than the console (a content's
    /// title).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub label: Option<String>,
    /// Times the content was opened in the month (by UTC day; counts of reads, never of who
    /// read). Content breakdowns only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub reads: Option<u64>,
}

/// A month's shares by one dimension, largest groups first, hidden ones last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Breakdown {
    pub month: String,
    pub by: Dimension,
    pub groups: Vec<GroupFigures>,
}

/// Body of `PUT /v1/me/accounts`: the networks the calling device has an account connected on
/// (kinds only, never handles), for the adoption figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConnectedNetworks {
    /// At most one of each.
    pub networks: Vec<crate::Network>,
}

/// How far the programme has spread, now: active people, those with a device enrolled, those
/// with an account connected on a device. `None`: fewer than 5 people behind it, or a
/// difference between two of them that would be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Adoption {
    pub people: Option<u64>,
    pub with_device: Option<u64>,
    pub with_account: Option<u64>,
    /// People with an account connected, by network.
    pub by_network: Vec<NetworkAdoption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NetworkAdoption {
    pub network: crate::Network,
    pub people: Option<u64>,
}
