//! Fetching what a source points at, treating the far end as hostile: addresses that resolve to
//! loopback, private or link-local ranges are refused (after every redirect too, since the
//! resolver itself refuses them), redirects are bounded, bodies are capped before and after
//! decompression, answers are checked for their content type, and every request times out.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderMap, CONTENT_TYPE, ETAG, LAST_MODIFIED, RETRY_AFTER};
use reqwest::{redirect, StatusCode, Url};

/// The most a source's answer may hold, compressed or not.
pub const MAX_BODY: usize = 5 * 1024 * 1024;
/// Redirects followed before giving up (a loop ends here too).
pub const MAX_REDIRECTS: usize = 5;

/// What the operator allows sources to reach.
#[derive(Debug, Clone)]
pub struct FetchPolicy {
    /// Loopback, private and link-local addresses too (sources on an intranet).
    pub allow_private: bool,
    /// Private address and port pairs allowed one by one, when a URL names them literally
    /// (`http://10.0.0.5:8080/feed`). A name resolving to a private address is refused
    /// unless `allow_private`: the resolver cannot see which port will be used.
    pub allowed: Vec<SocketAddr>,
    pub timeout: Duration,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            allow_private: false,
            allowed: Vec::new(),
            timeout: Duration::from_secs(20),
        }
    }
}

impl FetchPolicy {
    /// Whether a connection to `ip` is allowed: on `port` for a literal address, on a port
    /// unknown (`None`) for a resolved name.
    pub fn permits(&self, ip: IpAddr, port: Option<u16>) -> bool {
        self.allow_private
            || is_public(ip)
            || port.is_some_and(|p| self.allowed.contains(&SocketAddr::new(ip, p)))
    }
}

/// Why a fetch gave nothing to read. The text is what the source's health shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("refused: {0}")]
    Refused(String),
    #[error("the source answered {status}")]
    Status {
        status: u16,
        /// Seconds the source asked us to wait (`Retry-After`).
        retry_after: Option<u64>,
    },
    #[error("the answer is larger than {} MiB", MAX_BODY / 1024 / 1024)]
    TooLarge,
    #[error("the answer is {0}, not a feed or a page")]
    ContentType(String),
    #[error("no answer within {0} s")]
    Timeout(u64),
    #[error("{0}")]
    Network(String),
}

/// A source's answer.
#[derive(Debug)]
pub enum Fetched {
    NotModified,
    Body(Body),
}

#[derive(Debug)]
pub struct Body {
    pub bytes: Vec<u8>,
    pub content_type: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Where the answer came from, after redirects (relative links resolve against it).
    pub url: Url,
}

/// What kind of answer a fetch expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Feed,
    Page,
    Json,
}

impl Expect {
    fn accept(self) -> &'static str {
        match self {
            Expect::Feed => "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8",
            Expect::Page => "text/html, application/xhtml+xml;q=0.9",
            Expect::Json => "application/json",
        }
    }

    fn allows(self, content_type: &str) -> bool {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match self {
            Expect::Feed => {
                essence.ends_with("+xml")
                    || essence.ends_with("/xml")
                    || essence == "application/json"
                    || essence == "application/feed+json"
            }
            Expect::Page => essence == "text/html" || essence == "application/xhtml+xml",
            Expect::Json => essence == "application/json" || essence.ends_with("+json"),
        }
    }
}

/// Whether `ip` is on the public internet: not loopback, private, link-local, shared (CGNAT),
/// benchmarking, reserved, unique-local, multicast, documentation or unspecified, nor an IPv6
/// address that carries such an IPv4 one (mapped, NAT64, 6to4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || o[0] >= 240
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (18..20).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                IpAddr::V4(std::net::Ipv4Addr::new(
                    (hi >> 8) as u8,
                    hi as u8,
                    (lo >> 8) as u8,
                    lo as u8,
                ))
            };
            // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the IPv4 address they carry.
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                return is_public(embedded(s[6], s[7]));
            }
            if s[0] == 0x2002 {
                return is_public(embedded(s[1], s[2]));
            }
            // IPv4-compatible (::a.b.c.d, deprecated) and the rest of ::/96: never public.
            if s[..6] == [0, 0, 0, 0, 0, 0] {
                return false;
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8))
        }
    }
}

/// Checks a URL before it is requested or followed: http(s) only, and no literal address the
/// policy refuses (names are checked by the resolver).
pub fn check_url(url: &Url, policy: &FetchPolicy) -> Result<(), FetchError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FetchError::Refused(format!(
            "{} addresses are not fetched",
            url.scheme()
        )));
    }
    let literal = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(url::Host::Domain(_)) => None,
        None => return Err(FetchError::Refused("the address has no host".into())),
    };
    if let Some(ip) = literal {
        if !policy.permits(ip, url.port_or_known_default()) {
            return Err(FetchError::Refused(format!(
                "{ip} is a private, loopback or link-local address"
            )));
        }
    }
    Ok(())
}

/// Resolves names and keeps only the addresses the policy allows, so no connection (first or
/// after a redirect) reaches a refused one.
pub struct Resolver {
    policy: FetchPolicy,
}

impl Resolver {
    /// The guard for another client (push endpoints): the same rule as the sources'.
    pub fn guarding(policy: FetchPolicy) -> Arc<Resolver> {
        Arc::new(Resolver { policy })
    }
}

/// What the resolver says of a name that leads only to refused addresses.
const NO_PUBLIC_ADDRESS: &str = "resolves to no public address";

/// Whether a request failed because the guard refused where it led.
pub fn refused_by_guard(e: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = source {
        if err.to_string().contains(NO_PUBLIC_ADDRESS) {
            return true;
        }
        source = err.source();
    }
    false
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| policy.permits(a.ip(), None))
                .collect();
            if found.is_empty() {
                return Err(Box::new(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("{host} {NO_PUBLIC_ADDRESS}"),
                ))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// The HTTP client of every source.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: FetchPolicy,
}

impl Fetcher {
    pub fn new(policy: FetchPolicy) -> Fetcher {
        let for_redirects = policy.clone();
        let redirects = redirect::Policy::custom(move |attempt| {
            // `previous` holds the first address too: five redirects make six addresses.
            if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
            } else if let Err(refused) = check_url(attempt.url(), &for_redirects) {
                attempt.error(refused.to_string())
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .user_agent(concat!(
                "Relay/",
                env!("CARGO_PKG_VERSION"),
                " (source reader)"
            ))
            .redirect(redirects)
            // Proxy variables would send requests where the guard cannot see.
            .no_proxy()
            .dns_resolver(Arc::new(Resolver {
                policy: policy.clone(),
            }))
            .connect_timeout(policy.timeout.min(Duration::from_secs(10)))
            .timeout(policy.timeout)
            .build()
            .expect("a TLS backend is compiled in");
        Fetcher { client, policy }
    }

    /// Fetches `url`, conditionally when validators of an earlier answer are given.
    pub async fn get(
        &self,
        url: &str,
        expect: Expect,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<Fetched, FetchError> {
        let url = Url::parse(url).map_err(|e| FetchError::Refused(format!("{url}: {e}")))?;
        check_url(&url, &self.policy)?;
        let mut request = self
            .client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, expect.accept());
        if let Some(etag) = etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        if let Some(modified) = last_modified {
            request = request.header(reqwest::header::IF_MODIFIED_SINCE, modified);
        }
        let response = request.send().await.map_err(|e| self.failure(&e))?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
                retry_after: retry_after(response.headers()),
            });
        }
        let headers = response.headers().clone();
        let content_type = header(&headers, CONTENT_TYPE).unwrap_or_default();
        if !expect.allows(&content_type) {
            return Err(FetchError::ContentType(if content_type.is_empty() {
                "of no declared type".into()
            } else {
                content_type
            }));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY as u64)
        {
            return Err(FetchError::TooLarge);
        }
        let final_url = response.url().clone();
        // Counted as it arrives, after decompression: a small compressed bomb stops here.
        let mut bytes = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.failure(&e))?;
            if bytes.len() + chunk.len() > MAX_BODY {
                return Err(FetchError::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Fetched::Body(Body {
            bytes,
            content_type,
            etag: header(&headers, ETAG),
            last_modified: header(&headers, LAST_MODIFIED),
            url: final_url,
        }))
    }

    /// A failure as the source's health shows it: the innermost cause, not reqwest's wrapping.
    fn failure(&self, e: &reqwest::Error) -> FetchError {
        if e.is_timeout() {
            return FetchError::Timeout(self.policy.timeout.as_secs().max(1));
        }
        let mut cause: &dyn std::error::Error = e;
        while let Some(inner) = cause.source() {
            cause = inner;
        }
        let text = cause.to_string();
        if e.is_redirect() || refused_by_guard(e) {
            FetchError::Refused(text)
        } else {
            FetchError::Network(text)
        }
    }
}

fn header(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(512).collect())
}

/// `Retry-After` as seconds from now: delta-seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<u64> {
    let value = header(headers, RETRY_AFTER)?;
    if let Ok(seconds) = value.trim().parse::<u64>() {
        return Some(seconds);
    }
    let at = chrono::DateTime::parse_from_rfc2822(value.trim()).ok()?;
    Some(
        (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
            .num_seconds()
            .max(0) as u64,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_ranges_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "2002:c0a8:101::1",
            "198.18.0.1",
            "240.0.0.1",
            "2001:db8::1",
            "::127.0.0.1",
            "::a9fe:a9fe",
            "::8.8.8.8",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "2606:4700::1111",
            "1.1.1.1",
            "64:ff9b::5db8:d822",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn literal_private_addresses_and_other_schemes_are_refused() {
        let closed = FetchPolicy::default();
        let refused = |u: &str| check_url(&Url::parse(u).unwrap(), &closed).is_err();
        assert!(refused("http://127.0.0.1:8080/feed"));
        assert!(refused("http://[::1]/feed"));
        assert!(refused("http://169.254.169.254/latest/meta-data"));
        assert!(refused("file:///etc/passwd"));
        assert!(refused("ftp://example.com/feed"));
        assert!(!refused("https://example.com/feed"));
        let one = FetchPolicy {
            allowed: vec!["127.0.0.1:8080".parse().unwrap()],
            ..FetchPolicy::default()
        };
        assert!(check_url(&Url::parse("http://127.0.0.1:8080/").unwrap(), &one).is_ok());
        assert!(check_url(&Url::parse("http://127.0.0.1:8081/").unwrap(), &one).is_err());
        let open = FetchPolicy {
            allow_private: true,
            ..FetchPolicy::default()
        };
        assert!(check_url(&Url::parse("http://127.0.0.1/").unwrap(), &open).is_ok());
    }

    #[test]
    fn content_types_are_checked_by_what_is_expected() {
        assert!(Expect::Feed.allows("application/rss+xml; charset=utf-8"));
        assert!(Expect::Feed.allows("text/xml"));
        assert!(Expect::Feed.allows("application/feed+json"));
        assert!(!Expect::Feed.allows("image/png"));
        assert!(!Expect::Feed.allows("text/html"));
        assert!(Expect::Page.allows("text/html; charset=utf-8"));
        assert!(!Expect::Page.allows("application/octet-stream"));
    }
}
