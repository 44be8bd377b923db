//! Where a delivery may go: the URL is resolved at delivery time and every
//! address checked, and the request is pinned to the checked addresses so a
//! second DNS answer cannot point it elsewhere.

use std::net::SocketAddr;

use evalguard_domain::webhook_target::is_forbidden_ip;
use url::Url;

/// Why a target was refused. Refusals are not retried: they need a change of
/// the endpoint or of the server's configuration.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("the webhook URL is not valid: {0}")]
    BadUrl(String),
    #[error("the webhook URL must use http or https")]
    Scheme,
    #[error("the webhook host {host} does not resolve: {reason}")]
    Unresolved { host: String, reason: String },
    #[error(
        "the webhook host {host} resolves to {addr}, a private, loopback or link-local address; refused"
    )]
    Forbidden {
        host: String,
        addr: std::net::IpAddr,
    },
}

impl TargetError {
    /// Whether trying again later may succeed (DNS can recover).
    pub fn is_transient(&self) -> bool {
        matches!(self, TargetError::Unresolved { .. })
    }
}

/// A checked target: the URL and the addresses its host may be reached at.
#[derive(Debug)]
pub struct CheckedTarget {
    pub url: Url,
    pub host: String,
    pub addrs: Vec<SocketAddr>,
}

pub async fn check_target(raw: &str, allow_private: bool) -> Result<CheckedTarget, TargetError> {
    let url = Url::parse(raw).map_err(|e| TargetError::BadUrl(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TargetError::Scheme);
    }
    let host = url
        .host_str()
        .ok_or_else(|| TargetError::BadUrl("it has no host".to_owned()))?
        .to_owned();
    let port = url
        .port_or_known_default()
        .ok_or_else(|| TargetError::BadUrl("it has no port".to_owned()))?;
    // `host_str` keeps IPv6 literals in brackets; the resolver wants them bare.
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((bare.as_str(), port))
        .await
        .map_err(|e| TargetError::Unresolved {
            host: host.clone(),
            reason: e.to_string(),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(TargetError::Unresolved {
            host,
            reason: "no addresses".to_owned(),
        });
    }
    if !allow_private && let Some(bad) = addrs.iter().find(|a| is_forbidden_ip(a.ip())) {
        return Err(TargetError::Forbidden {
            host,
            addr: bad.ip(),
        });
    }
    Ok(CheckedTarget {
        url,
        host: bare,
        addrs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn loopback_is_refused_unless_allowed() {
        let err = check_target("http://127.0.0.1:9/hook", false)
            .await
            .unwrap_err();
        assert!(matches!(err, TargetError::Forbidden { .. }), "{err}");
        let err = check_target("http://localhost:9/hook", false)
            .await
            .unwrap_err();
        assert!(matches!(err, TargetError::Forbidden { .. }), "{err}");
        let err = check_target("http://[::1]:9/hook", false)
            .await
            .unwrap_err();
        assert!(matches!(err, TargetError::Forbidden { .. }), "{err}");
        let ok = check_target("http://127.0.0.1:9/hook", true).await.unwrap();
        assert_eq!(ok.addrs[0].port(), 9);
    }

    #[tokio::test]
    async fn other_schemes_are_refused() {
        assert!(matches!(
            check_target("ftp://example.com/x", true).await.unwrap_err(),
            TargetError::Scheme
        ));
        assert!(matches!(
            check_target("not a url", true).await.unwrap_err(),
            TargetError::BadUrl(_)
        ));
    }
}
