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
}

/// A month's shares by one dimension, largest groups first, hidden ones last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Breakdown {
    pub month: String,
    pub by: Dimension,
    pub groups: Vec<GroupFigures>,
}
