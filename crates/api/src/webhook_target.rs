//! Whether a webhook URL may be registered: http or https, and a host that is
//! not (and does not resolve to) a private, loopback or link-local address.
//! The address rule itself lives in the domain so that delivery applies the
//! same one when it connects.

use std::net::IpAddr;

use evalguard_domain::webhook_target::is_forbidden_ip;
use url::{Host, Url};

const MAX_URL_LEN: usize = 2_048;

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
    #[error("the webhook host resolves to {0}, a private, loopback or link-local address")]
    Forbidden(IpAddr),
}

impl WebhookTargetError {
    pub fn code(&self) -> &'static str {
        match self {
            WebhookTargetError::Forbidden(_) => "webhook_target_forbidden",
            WebhookTargetError::Unresolvable(_) => "webhook_target_unresolvable",
            _ => "invalid_webhook_url",
        }
    }
}

/// Checks a webhook URL; `allow_private` (server configuration) lifts the
/// address rule, e.g. for tests that deliver to 127.0.0.1.
pub async fn check_webhook_target(
    url: &str,
    allow_private: bool,
) -> Result<(), WebhookTargetError> {
    if url.len() > MAX_URL_LEN {
        return Err(WebhookTargetError::InvalidUrl);
    }
    let parsed = Url::parse(url).map_err(|_| WebhookTargetError::InvalidUrl)?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(WebhookTargetError::UnsupportedScheme);
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(WebhookTargetError::Credentials);
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let host = parsed.host().ok_or(WebhookTargetError::InvalidUrl)?;
    if allow_private {
        return Ok(());
    }
    let addresses: Vec<IpAddr> = match host {
        Host::Ipv4(ip) => vec![IpAddr::V4(ip)],
        Host::Ipv6(ip) => vec![IpAddr::V6(ip)],
        Host::Domain(name) => tokio::net::lookup_host((name, port))
            .await
            .map_err(|_| WebhookTargetError::Unresolvable(name.to_owned()))?
            .map(|addr| addr.ip())
            .collect(),
    };
    if addresses.is_empty() {
        return Err(WebhookTargetError::Unresolvable(
            parsed.host_str().unwrap_or("").to_owned(),
        ));
    }
    // Every address must be allowed: a name with one public and one private
    // address could be delivered to either.
    match addresses.into_iter().find(|ip| is_forbidden_ip(*ip)) {
        Some(ip) => Err(WebhookTargetError::Forbidden(ip)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn private_literal_addresses_are_refused() {
        for url in [
            "http://127.0.0.1:8080/hook",
            "http://10.0.0.5/hook",
            "https://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]:9000/",
            "http://[fe80::1]/",
            "http://0.0.0.0/",
            "http://100.64.1.1/",
            "http://[::ffff:127.0.0.1]/",
            // Alternative spellings of 127.0.0.1 are normalised by the URL parser.
            "http://2130706433/",
            "http://0x7f.0.0.1/",
        ] {
            let err = check_webhook_target(url, false).await.unwrap_err();
            assert!(
                matches!(err, WebhookTargetError::Forbidden(_)),
                "{url}: {err:?}"
            );
            assert_eq!(err.code(), "webhook_target_forbidden");
        }
    }

    #[tokio::test]
    async fn names_resolving_to_loopback_are_refused() {
        let err = check_webhook_target("http://localhost:8080/hook", false)
            .await
            .unwrap_err();
        assert!(matches!(err, WebhookTargetError::Forbidden(_)), "{err:?}");
    }

    #[tokio::test]
    async fn allow_private_lifts_the_address_rule_only() {
        check_webhook_target("http://127.0.0.1:8080/hook", true)
            .await
            .unwrap();
        check_webhook_target("http://localhost/hook", true)
            .await
            .unwrap();
        assert_eq!(
            check_webhook_target("ftp://127.0.0.1/", true)
                .await
                .unwrap_err(),
            WebhookTargetError::UnsupportedScheme
        );
    }

    #[tokio::test]
    async fn malformed_urls_are_refused() {
        for url in [
            "",
            "not a url",
            "/relative",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "http://user:pw@example.com/",
        ] {
            let err = check_webhook_target(url, false).await.unwrap_err();
            assert_eq!(err.code(), "invalid_webhook_url", "{url}");
        }
    }

    #[tokio::test]
    async fn public_literal_addresses_are_allowed() {
        check_webhook_target("https://8.8.8.8/hook", false)
            .await
            .unwrap();
        check_webhook_target("http://[2606:4700:4700::1111]:8443/x", false)
            .await
            .unwrap();
    }
}
