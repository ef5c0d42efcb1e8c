//! The client's address behind reverse proxies. A proxy in front of the server makes every
//! request come from its own address: attempt limits would then count the whole company as one
//! address, and tracked links would count every visitor of a day as one. For peers listed in
//! `trusted_proxies` (`RELAY_TRUSTED_PROXIES`), the client is the right-most address of
//! `X-Forwarded-For` that is not itself a trusted proxy; for any other peer the header is
//! ignored (anyone can write it).

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

/// Addresses and networks (`10.0.0.0/8`, `::1`) whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// A comma-separated list of addresses and CIDR networks.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (addr, bits) = match entry.split_once('/') {
                Some((addr, bits)) => (addr, Some(bits)),
                None => (entry, None),
            };
            let addr: IpAddr = addr
                .parse()
                .map_err(|_| format!("trusted_proxies: {entry} is not an address or network"))?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(bits) => bits
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| format!("trusted_proxies: {entry} has a bad prefix length"))?,
                None => max,
            };
            nets.push((addr, bits));
        }
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0
            .iter()
            .any(|(net, bits)| match (canonical(*net), ip) {
                (IpAddr::V4(net), IpAddr::V4(ip)) => {
                    let mask = u32::MAX.checked_shl(32 - u32::from(*bits)).unwrap_or(0);
                    u32::from(net) & mask == u32::from(ip) & mask
                }
                (IpAddr::V6(net), IpAddr::V6(ip)) => {
                    let mask = u128::MAX.checked_shl(128 - u32::from(*bits)).unwrap_or(0);
                    u128::from(net) & mask == u128::from(ip) & mask
                }
                _ => false,
            })
    }

    /// The address the request comes from: `peer`, or behind trusted proxies the last
    /// address they were given.
    pub fn client(&self, peer: SocketAddr, headers: &HeaderMap) -> SocketAddr {
        if self.is_empty() || !self.trusts(peer.ip()) {
            return peer;
        }
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for hop in hops.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(ip) if self.trusts(ip) => continue,
                Ok(ip) => return SocketAddr::new(canonical(ip), 0),
                // Garbage where an address belongs: trust nothing further left.
                Err(_) => break,
            }
        }
        peer
    }
}

/// IPv4 addresses written as IPv6 (`::ffff:10.0.0.1`) compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append("x-forwarded-for", v.parse().unwrap());
        }
        map
    }

    fn peer(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 4321)
    }

    #[test]
    fn only_a_trusted_proxy_is_believed() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, ::1").unwrap();
        let client = |p: &str, h: &[&str]| proxies.client(peer(p), &headers(h)).ip().to_string();
        // Behind the proxy: the client it saw.
        assert_eq!(client("10.1.2.3", &["203.0.113.7"]), "203.0.113.7");
        assert_eq!(client("::1", &["203.0.113.7"]), "203.0.113.7");
        // A client writing the header itself, through the proxy: the proxy appends the real
        // address, which is the one taken.
        assert_eq!(client("10.1.2.3", &["1.2.3.4, 203.0.113.7"]), "203.0.113.7");
        assert_eq!(
            client("10.1.2.3", &["1.2.3.4", "203.0.113.7"]),
            "203.0.113.7"
        );
        // Two proxies of ours: the one before them.
        assert_eq!(
            client("10.1.2.3", &["198.51.100.2, 10.9.9.9"]),
            "198.51.100.2"
        );
        // Straight to the server: the header is anyone's word.
        assert_eq!(client("192.0.2.1", &["203.0.113.7"]), "192.0.2.1");
        // Nothing usable: the proxy's own address.
        assert_eq!(client("10.1.2.3", &[]), "10.1.2.3");
        assert_eq!(client("10.1.2.3", &["not-an-address"]), "10.1.2.3");
        assert_eq!(client("10.1.2.3", &["10.2.2.2"]), "10.1.2.3");
        // An IPv4 peer seen as IPv6.
        assert_eq!(client("::ffff:10.0.0.1", &["203.0.113.7"]), "203.0.113.7");
        // None trusted: never read.
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(peer("10.1.2.3"), &headers(&["203.0.113.7"]))
                .ip()
                .to_string(),
            "10.1.2.3"
        );
    }

    #[test]
    fn a_bad_list_says_which_entry() {
        assert!(TrustedProxies::parse("10.0.0.0/33")
            .unwrap_err()
            .contains("10.0.0.0/33"));
        assert!(TrustedProxies::parse("proxy.internal")
            .unwrap_err()
            .contains("proxy.internal"));
        assert_eq!(
            TrustedProxies::parse("127.0.0.1, 0.0.0.0/0")
                .unwrap()
                .0
                .len(),
            2
        );
        assert!(TrustedProxies::parse("").unwrap().is_empty());
    }
}
