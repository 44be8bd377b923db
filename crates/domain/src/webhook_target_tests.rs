use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("a test address")
}

#[test]
fn every_special_purpose_address_is_forbidden() {
    for s in [
        // IPv4
        "0.0.0.0",
        "0.1.2.3",
        "10.1.2.3",
        "100.64.0.1",
        "100.127.255.255",
        "127.0.0.1",
        "127.8.9.10",
        "169.254.169.254",
        "172.16.0.1",
        "172.31.255.255",
        "192.0.0.1",
        "192.0.0.170",
        "192.0.2.10",
        "192.31.196.1",
        "192.52.193.1",
        "192.88.99.1",
        "192.168.1.1",
        "192.175.48.1",
        "198.18.0.1",
        "198.19.255.254",
        "198.51.100.7",
        "203.0.113.9",
        "224.0.0.1",
        "239.255.255.255",
        "240.0.0.1",
        "255.255.255.255",
        // IPv6
        "::",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:8.8.8.8",
        "::127.0.0.1",
        "::ffff:0:7f00:1",
        "64:ff9b::7f00:1",
        "64:ff9b::a9fe:a9fe",
        "64:ff9b::808:808",
        "64:ff9b:1::1",
        "64:ff9b:1:ffff::1",
        "100::1",
        "2001::1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "2001:2::1",
        "2001:10::1",
        "2001:20::1",
        "2001:1ff:ffff::1",
        "2001:db8::1",
        "2001:db8:ffff::1",
        "2002:7f00:1::",
        "2002:a9fe:a9fe::1",
        "2002:808:808::1",
        "2620:4f:8000::1",
        "3fff::1",
        "3fff:fff::1",
        "5f00::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "febf::1",
        "fec0::1",
        "ff02::1",
        "ff0e::1",
    ] {
        assert!(is_forbidden_ip(ip(s)), "{s} must be forbidden");
    }
}

#[test]
fn public_addresses_are_allowed() {
    for s in [
        "1.1.1.1",
        "8.8.8.8",
        "100.63.255.255",
        "100.128.0.1",
        "172.15.255.255",
        "172.32.0.1",
        "192.0.1.1",
        "192.0.3.1",
        "192.88.98.1",
        "192.169.0.1",
        "198.17.255.255",
        "198.20.0.1",
        "198.51.101.1",
        "203.0.114.1",
        "223.255.255.255",
        "2001:200::1",
        "2001:4860:4860::8888",
        "2003::1",
        "2606:4700:4700::1111",
        "2620:4f:8001::1",
        "3fff:1000::1",
    ] {
        assert!(!is_forbidden_ip(ip(s)), "{s} must be allowed");
    }
}

#[test]
fn refusals_name_the_range() {
    let range = forbidden_range(ip("198.18.3.4")).expect("forbidden");
    assert!(range.name.contains("benchmarking"), "{}", range.name);
    let url = WebhookUrl::parse("http://[64:ff9b::7f00:1]/hook").expect("parses");
    let err = url
        .check_addresses(&[url.literal.expect("a literal")], false)
        .unwrap_err();
    assert_eq!(err.code(), "webhook_target_forbidden");
    assert!(err.to_string().contains("64:ff9b::7f00:1"), "{err}");
}

#[test]
fn urls_are_parsed_strictly() {
    for (raw, code) in [
        ("", "invalid_webhook_url"),
        ("not a url", "invalid_webhook_url"),
        ("/relative", "invalid_webhook_url"),
        ("file:///etc/passwd", "invalid_webhook_url"),
        ("ftp://example.com/", "invalid_webhook_url"),
        ("javascript:alert(1)", "invalid_webhook_url"),
        ("http://user:pw@example.com/", "invalid_webhook_url"),
    ] {
        assert_eq!(WebhookUrl::parse(raw).unwrap_err().code(), code, "{raw}");
    }
    let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
    assert_eq!(
        WebhookUrl::parse(&long).unwrap_err(),
        WebhookTargetError::InvalidUrl
    );
    // Other spellings of 127.0.0.1 become the address itself.
    for raw in ["http://2130706433/", "http://0x7f.0.0.1/", "http://127.1/"] {
        let url = WebhookUrl::parse(raw).expect("parses");
        assert_eq!(url.literal, Some(ip("127.0.0.1")), "{raw}");
    }
    let url = WebhookUrl::parse("http://[::1]:9000/x").expect("parses");
    assert_eq!((url.host.as_str(), url.port), ("::1", 9000));
    let url = WebhookUrl::parse("https://hooks.example.com/x").expect("parses");
    assert_eq!(
        (url.host.as_str(), url.port, url.literal),
        ("hooks.example.com", 443, None)
    );
}

#[test]
fn every_address_of_a_name_must_pass() {
    let url = WebhookUrl::parse("https://hooks.example.com/x").expect("parses");
    assert!(url.check_addresses(&[ip("8.8.8.8")], false).is_ok());
    let err = url
        .check_addresses(&[ip("8.8.8.8"), ip("10.0.0.1")], false)
        .unwrap_err();
    assert!(matches!(err, WebhookTargetError::Forbidden { .. }), "{err}");
    assert!(url.check_addresses(&[ip("10.0.0.1")], true).is_ok());
    let err = url.check_addresses(&[], true).unwrap_err();
    assert!(err.is_transient());
}

fn host_in(net: u32, len: u8, host: u32) -> Ipv4Addr {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    Ipv4Addr::from((net & mask) | (host & !mask))
}

proptest! {
    /// Any address inside any listed IPv4 range is refused, whatever its host bits.
    #[test]
    fn any_host_of_a_special_v4_range_is_forbidden(index in 0..SPECIAL_V4.len(), host: u32) {
        let (net, len, _) = SPECIAL_V4[index];
        let addr = host_in(u32::from(net), len, host);
        prop_assert!(is_forbidden_ip(IpAddr::V4(addr)), "{addr}");
    }

    /// IPv4 embedded in IPv6 is refused in every form, even for a public IPv4:
    /// the translating relay or gateway decides where it really goes.
    #[test]
    fn ipv4_embedded_in_ipv6_is_forbidden(v4: u32, suffix: u64) {
        let v4 = u128::from(v4);
        let forms = [
            (0xffffu128 << 32) | v4,                      // ::ffff:a.b.c.d mapped
            v4,                                           // ::a.b.c.d compatible
            (0xffffu128 << 48) | v4,                      // ::ffff:0:a.b.c.d translated
            (0x0064_ff9bu128 << 96) | v4,                 // NAT64 64:ff9b::/96
            (0x0064_ff9b_0001u128 << 80) | (v4 << 8),     // NAT64 64:ff9b:1::/48
            (0x2002u128 << 112) | (v4 << 80) | u128::from(suffix), // 6to4
            (0x2001_0000u128 << 96) | u128::from(suffix) | (!v4 & 0xffff_ffff), // Teredo
        ];
        for bits in forms {
            let addr = Ipv6Addr::from(bits);
            prop_assert!(is_forbidden_ip(IpAddr::V6(addr)), "{addr}");
        }
    }

    /// Outside 2000::/3, every IPv6 address is refused.
    #[test]
    fn non_global_unicast_v6_is_forbidden(bits: u128) {
        let addr = Ipv6Addr::from(bits);
        if bits >> 125 != 0b001 {
            prop_assert!(is_forbidden_ip(IpAddr::V6(addr)), "{addr}");
        }
    }
}
