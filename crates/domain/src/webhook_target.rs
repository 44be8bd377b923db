//! The one guard on webhook targets (SSRF). A webhook must not become a way
//! to reach services behind the firewall, so a target URL is refused when its
//! host is, or resolves to, an address of any special-purpose range of the
//! IANA registries (loopback, private, link-local, shared, benchmarking,
//! documentation, relays, multicast…), IPv4 embedded in IPv6 included.
//!
//! Registration (API) and delivery (worker) both use [`WebhookUrl::parse`]
//! and [`WebhookUrl::check_addresses`]; they only differ in doing the DNS
//! lookup themselves, since this crate does no I/O. Delivery then connects to
//! exactly the addresses that were checked.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Longest webhook URL accepted.
pub const MAX_URL_LEN: usize = 2_048;

/// A named special-purpose range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecialRange {
    /// What the range is for, e.g. "benchmarking (198.18.0.0/15)".
    pub name: &'static str,
}

/// IPv4 special-purpose ranges (IANA IPv4 Special-Purpose Address Registry,
/// plus multicast and the reserved 240/4). Every one is refused, even the few
/// the registry marks globally reachable (192.0.0.9, 192.31.196/24…): no
/// webhook receiver lives there.
const SPECIAL_V4: &[(Ipv4Addr, u8, &str)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8, "\"this network\" (0.0.0.0/8)"),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "private (10.0.0.0/8)"),
    (
        Ipv4Addr::new(100, 64, 0, 0),
        10,
        "shared address space (100.64.0.0/10)",
    ),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback (127.0.0.0/8)"),
    (
        Ipv4Addr::new(169, 254, 0, 0),
        16,
        "link-local (169.254.0.0/16)",
    ),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "private (172.16.0.0/12)"),
    (
        Ipv4Addr::new(192, 0, 0, 0),
        24,
        "IETF protocol assignments (192.0.0.0/24)",
    ),
    (
        Ipv4Addr::new(192, 0, 2, 0),
        24,
        "documentation (192.0.2.0/24)",
    ),
    (
        Ipv4Addr::new(192, 31, 196, 0),
        24,
        "AS112 (192.31.196.0/24)",
    ),
    (Ipv4Addr::new(192, 52, 193, 0), 24, "AMT (192.52.193.0/24)"),
    (
        Ipv4Addr::new(192, 88, 99, 0),
        24,
        "6to4 relay anycast (192.88.99.0/24)",
    ),
    (
        Ipv4Addr::new(192, 168, 0, 0),
        16,
        "private (192.168.0.0/16)",
    ),
    (
        Ipv4Addr::new(192, 175, 48, 0),
        24,
        "AS112 direct delegation (192.175.48.0/24)",
    ),
    (
        Ipv4Addr::new(198, 18, 0, 0),
        15,
        "benchmarking (198.18.0.0/15)",
    ),
    (
        Ipv4Addr::new(198, 51, 100, 0),
        24,
        "documentation (198.51.100.0/24)",
    ),
    (
        Ipv4Addr::new(203, 0, 113, 0),
        24,
        "documentation (203.0.113.0/24)",
    ),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "multicast (224.0.0.0/4)"),
    (
        Ipv4Addr::new(240, 0, 0, 0),
        4,
        "reserved (240.0.0.0/4, broadcast included)",
    ),
];

/// IPv6 special-purpose ranges inside global unicast 2000::/3. Everything
/// outside 2000::/3 is refused wholesale (see [`forbidden_v6`]): it holds
/// loopback, unspecified, IPv4-mapped and -compatible (::/8), NAT64
/// (64:ff9b::/96, 64:ff9b:1::/48), discard (100::/64), SRv6 SIDs (5f00::/16),
/// ULA (fc00::/7), link-local (fe80::/10), site-local and multicast (ff00::/8).
const SPECIAL_V6: &[(Ipv6Addr, u8, &str)] = &[
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        "IETF protocol assignments, Teredo included (2001::/23)",
    ),
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        "documentation (2001:db8::/32)",
    ),
    (
        Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0),
        16,
        "6to4 (2002::/16)",
    ),
    (
        Ipv6Addr::new(0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0),
        48,
        "AS112 direct delegation (2620:4f:8000::/48)",
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        "documentation (3fff::/20)",
    ),
];

const OUTSIDE_GLOBAL_UNICAST: &str = "outside IPv6 global unicast 2000::/3 (loopback, IPv4-mapped, NAT64, ULA, link-local, multicast…)";

/// The special-purpose range `ip` belongs to, if any: such an address is
/// never a webhook target (unless the server allows private targets).
pub fn forbidden_range(ip: IpAddr) -> Option<SpecialRange> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

/// Whether a webhook must not be delivered to `ip`.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    forbidden_range(ip).is_some()
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<SpecialRange> {
    let bits = u32::from(ip);
    SPECIAL_V4
        .iter()
        .find(|(net, len, _)| prefix_matches_v4(bits, u32::from(*net), *len))
        .map(|(_, _, name)| SpecialRange { name })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<SpecialRange> {
    let bits = u128::from(ip);
    // 2000::/3 is the only block IANA allocates for global unicast.
    if bits >> 125 != 0b001 {
        return Some(SpecialRange {
            name: OUTSIDE_GLOBAL_UNICAST,
        });
    }
    SPECIAL_V6
        .iter()
        .find(|(net, len, _)| prefix_matches_v6(bits, u128::from(*net), *len))
        .map(|(_, _, name)| SpecialRange { name })
}

fn prefix_matches_v4(bits: u32, net: u32, len: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    bits & mask == net & mask
}

fn prefix_matches_v6(bits: u128, net: u128, len: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    bits & mask == net & mask
}

/// Why a webhook target is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookTargetError {
    #[error("the webhook URL is not a valid absolute URL")]
    InvalidUrl,
    #[error("the webhook URL must use http or https")]
    UnsupportedScheme,
    #[error("the webhook URL must not contain a user name or password")]
    Credentials,
    #[error("the webhook host '{0}' could not be resolved")]
    Unresolvable(String),
    #[error("the webhook host resolves to {ip}, a special-purpose address ({}); refused", range.name)]
    Forbidden { ip: IpAddr, range: SpecialRange },
}

impl WebhookTargetError {
    /// The API error code for this refusal.
    pub fn code(&self) -> &'static str {
        match self {
            WebhookTargetError::Forbidden { .. } => "webhook_target_forbidden",
            WebhookTargetError::Unresolvable(_) => "webhook_target_unresolvable",
            _ => "invalid_webhook_url",
        }
    }

    /// Whether trying again later may succeed (DNS can recover).
    pub fn is_transient(&self) -> bool {
        matches!(self, WebhookTargetError::Unresolvable(_))
    }
}

/// A syntactically acceptable webhook URL: absolute http(s), no credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    pub url: Url,
    /// The host name to resolve (IPv6 literals without brackets).
    pub host: String,
    /// The host when the URL names an address rather than a name.
    pub literal: Option<IpAddr>,
    pub port: u16,
}

impl WebhookUrl {
    pub fn parse(raw: &str) -> Result<Self, WebhookTargetError> {
        if raw.len() > MAX_URL_LEN {
            return Err(WebhookTargetError::InvalidUrl);
        }
        let url = Url::parse(raw).map_err(|_| WebhookTargetError::InvalidUrl)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(WebhookTargetError::UnsupportedScheme);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(WebhookTargetError::Credentials);
        }
        let port = url
            .port_or_known_default()
            .ok_or(WebhookTargetError::InvalidUrl)?;
        // The URL parser normalises alternative spellings of addresses
        // (2130706433, 0x7f.0.0.1) into `Host::Ipv4`.
        let (host, literal) = match url.host().ok_or(WebhookTargetError::InvalidUrl)? {
            Host::Domain(name) => (name.to_owned(), None),
            Host::Ipv4(v4) => (v4.to_string(), Some(IpAddr::V4(v4))),
            Host::Ipv6(v6) => (v6.to_string(), Some(IpAddr::V6(v6))),
        };
        Ok(Self {
            url,
            host,
            literal,
            port,
        })
    }

    /// Checks every address the host resolved to: a name with one public and
    /// one private address could be delivered to either, so all must pass.
    /// `allow_private` (server configuration) lifts the address rule.
    pub fn check_addresses(
        &self,
        addresses: &[IpAddr],
        allow_private: bool,
    ) -> Result<(), WebhookTargetError> {
        if addresses.is_empty() {
            return Err(WebhookTargetError::Unresolvable(self.host.clone()));
        }
        if allow_private {
            return Ok(());
        }
        match addresses
            .iter()
            .find_map(|ip| forbidden_range(*ip).map(|range| (*ip, range)))
        {
            Some((ip, range)) => Err(WebhookTargetError::Forbidden { ip, range }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
#[path = "webhook_target_tests.rs"]
mod tests;
