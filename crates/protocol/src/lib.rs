//! Wire types of the Relay server API.
//!
//! Shared by `relay-server` (which serialises them) and `relay-client` (which reads them), so the
//! two cannot drift apart. Every type here is plain data: no I/O, no database types.
//!
//! Timestamps are RFC 3339 in UTC. Identifiers are opaque strings (UUIDs today).

mod analytics;
mod auth;
mod brokered;
mod console;
mod content;
mod draw;
mod personal;
mod problem;
mod programme;
mod push;
mod shares;
mod sources;
mod sync;

pub use analytics::*;
pub use auth::*;
pub use brokered::*;
pub use console::*;
pub use content::*;
pub use draw::*;
pub use personal::*;
pub use problem::*;
pub use programme::*;
pub use push::*;
pub use shares::*;
pub use sources::*;
pub use sync::*;

/// Path prefix of every versioned endpoint.
pub const API_PREFIX: &str = "/v1";

/// Defines a string-valued enum with its wire names, `as_str` and `FromStr`, so that each
/// variant's spelling lives in one place (serde, the database and the CLI all use it).
#[macro_export]
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant),+
        }

        // Written by hand: utoipa's derive does not see a `rename` given through a macro, and
        // would document the Rust names instead of the wire's.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($wire),+]))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire (and database) spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    other => Err($crate::UnknownVariant {
                        kind: stringify!($name),
                        value: other.to_owned(),
                        expected: &[$($wire),+],
                    }),
                }
            }
        }
    };
}

/// A string that names no variant of a wire enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownVariant {
    pub kind: &'static str,
    pub value: String,
    pub expected: &'static [&'static str],
}

impl std::fmt::Display for UnknownVariant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown {} {:?} (expected one of: {})",
            self.kind,
            self.value,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for UnknownVariant {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_enums_round_trip_through_their_spelling() {
        for network in Network::ALL {
            assert_eq!(network.as_str().parse::<Network>().unwrap(), *network);
            let json = serde_json::to_string(network).unwrap();
            assert_eq!(json, format!("\"{}\"", network.as_str()));
        }
        let err = "myspace".parse::<Network>().unwrap_err();
        assert!(err.to_string().contains("linkedin"), "{err}");
    }
}
