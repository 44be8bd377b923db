//! Where a delivery may go: the URL is resolved at delivery time, every
//! address goes through the domain's single guard, and the request is then
//! pinned to exactly those addresses (no second DNS answer, no proxy).

use std::net::{IpAddr, SocketAddr};

use evalguard_domain::webhook_target::{WebhookTargetError, WebhookUrl};
use url::Url;

/// A checked target: the URL and the addresses its host may be reached at.
#[derive(Debug)]
pub struct CheckedTarget {
    pub url: Url,
    pub host: String,
    pub addrs: Vec<SocketAddr>,
}

/// Resolves and checks a target. Refusals other than
/// [`WebhookTargetError::Unresolvable`] are not worth retrying: they need a
/// change of the endpoint or of the server's configuration.
pub async fn check_target(
    raw: &str,
    allow_private: bool,
) -> Result<CheckedTarget, WebhookTargetError> {
    let target = WebhookUrl::parse(raw)?;
    let addrs: Vec<SocketAddr> = match target.literal {
        Some(ip) => vec![SocketAddr::new(ip, target.port)],
        None => tokio::net::lookup_host((target.host.as_str(), target.port))
            .await
            .map_err(|_| WebhookTargetError::Unresolvable(target.host.clone()))?
            .collect(),
    };
    let ips: Vec<IpAddr> = addrs.iter().map(SocketAddr::ip).collect();
    target.check_addresses(&ips, allow_private)?;
    Ok(CheckedTarget {
        url: target.url,
        host: target.host,
        addrs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn special_purpose_targets_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:9/hook",
            "http://localhost:9/hook",
            "http://[::1]:9/hook",
            "http://[64:ff9b::7f00:1]:9/hook",
            "http://[2002:7f00:1::]:9/hook",
            "http://198.18.0.1:9/hook",
        ] {
            let err = check_target(url, false).await.unwrap_err();
            assert!(
                matches!(err, WebhookTargetError::Forbidden { .. }),
                "{url}: {err}"
            );
            assert!(!err.is_transient());
        }
        let ok = check_target("http://127.0.0.1:9/hook", true).await.unwrap();
        assert_eq!(ok.addrs, vec!["127.0.0.1:9".parse().unwrap()]);
    }

    #[tokio::test]
    async fn other_schemes_are_refused() {
        assert_eq!(
            check_target("ftp://example.com/x", true).await.unwrap_err(),
            WebhookTargetError::UnsupportedScheme
        );
        assert_eq!(
            check_target("not a url", true).await.unwrap_err(),
            WebhookTargetError::InvalidUrl
        );
    }
}
