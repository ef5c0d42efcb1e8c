//! Attempt limits on the endpoints that take a secret from an anonymous caller (enrolment,
//! refresh, company sign-in): per client address, and per organisation where the attempt names
//! one. Over the limit the answer is `429` with `Retry-After`; every attempt counts, a code of
//! the right shape but wrong included.
//!
//! The defaults leave room for an office behind one address enrolling at once (a few thousand
//! people through one NAT) while making guessing pointless: codes carry 80 bits.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

/// Attempts allowed per minute (each also the burst).
#[derive(Debug, Clone, Copy)]
pub struct AttemptQuota {
    pub per_address: u32,
    pub per_org: u32,
}

impl Default for AttemptQuota {
    fn default() -> Self {
        AttemptQuota {
            per_address: 60,
            per_org: 3000,
        }
    }
}

/// The limiters, shared by every request of this server instance.
pub struct AttemptLimits {
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    by_org: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl AttemptLimits {
    pub fn new(quota: AttemptQuota) -> AttemptLimits {
        let per_minute =
            |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        AttemptLimits {
            by_address: RateLimiter::keyed(per_minute(quota.per_address)),
            by_org: RateLimiter::keyed(per_minute(quota.per_org)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts an attempt from `address` (unknown in tests that bypass the listener).
    pub fn attempt_from(&self, address: ClientAddr) -> Result<(), ApiError> {
        let Some(ip) = address.0 else {
            return Ok(());
        };
        self.shed();
        self.by_address
            .check_key(&ip)
            .map_err(|wait| self.too_many(wait.wait_time_from(self.clock.now())))
    }

    /// Counts an attempt on `org_id`'s sessions.
    pub fn attempt_on(&self, org_id: &str) -> Result<(), ApiError> {
        self.by_org
            .check_key(&org_id.to_owned())
            .map_err(|wait| self.too_many(wait.wait_time_from(self.clock.now())))
    }

    fn too_many(&self, wait: Duration) -> ApiError {
        ApiError::TooManyRequests {
            retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
        }
    }

    /// Forgets addresses whose allowance is full again, so the map does not grow for ever.
    fn shed(&self) {
        if self.by_address.len() > 10_000 {
            self.by_address.retain_recent();
            self.by_org.retain_recent();
        }
    }
}

/// The address of the peer that sent the request (`None` where the server was not started by
/// [`crate::serve`], as in tests that call the router directly).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_over_its_allowance_waits_and_others_do_not() {
        let limits = AttemptLimits::new(AttemptQuota {
            per_address: 3,
            per_org: 2,
        });
        let a = ClientAddr(Some("127.0.0.2".parse().unwrap()));
        let b = ClientAddr(Some("127.0.0.3".parse().unwrap()));
        for _ in 0..3 {
            limits.attempt_from(a).unwrap();
        }
        match limits.attempt_from(a) {
            Err(ApiError::TooManyRequests { retry_after_secs }) => {
                assert!((1..=60).contains(&retry_after_secs), "{retry_after_secs}")
            }
            other => panic!("{other:?}"),
        }
        limits.attempt_from(b).unwrap();
        limits.attempt_on("org-1").unwrap();
        limits.attempt_on("org-1").unwrap();
        assert!(limits.attempt_on("org-1").is_err());
        limits.attempt_on("org-2").unwrap();
    }
}
