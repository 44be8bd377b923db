//! Whether a webhook URL may be registered. The rule is the domain's single
//! guard ([`WebhookUrl`]); this module only adds the DNS lookup, which the
//! domain cannot do. Delivery checks again, because DNS answers change.

use std::net::IpAddr;

use evalguard_domain::webhook_target::{WebhookTargetError, WebhookUrl};

/// Checks a webhook URL; `allow_private` (server configuration) lifts the
/// address rule, e.g. for tests that deliver to 127.0.0.1.
pub async fn check_webhook_target(
    url: &str,
    allow_private: bool,
) -> Result<(), WebhookTargetError> {
    let target = WebhookUrl::parse(url)?;
    let addresses: Vec<IpAddr> = match target.literal {
        Some(ip) => vec![ip],
        None if allow_private => return Ok(()),
        None => tokio::net::lookup_host((target.host.as_str(), target.port))
            .await
            .map_err(|_| WebhookTargetError::Unresolvable(target.host.clone()))?
            .map(|addr| addr.ip())
            .collect(),
    };
    target.check_addresses(&addresses, allow_private)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_resolving_to_loopback_are_refused() {
        let err = check_webhook_target("http://localhost:8080/hook", false)
            .await
            .unwrap_err();
        assert!(
            matches!(err, WebhookTargetError::Forbidden { .. }),
            "{err:?}"
        );
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
    async fn public_literal_addresses_are_allowed() {
        check_webhook_target("https://8.8.8.8/hook", false)
            .await
            .unwrap();
        check_webhook_target("http://[2606:4700:4700::1111]:8443/x", false)
            .await
            .unwrap();
    }
}
