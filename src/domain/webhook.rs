//! The webhook receiver's address: what a valid one looks like, and which addresses lie in
//! a network the server must not be made to reach for a supervisor (loopback, private,
//! link-local…) unless the operator allows it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The longest webhook URL accepted.
const URL_MAX_CHARS: usize = 2000;

/// A typed webhook URL, read: http or https, with a host.
pub fn parse_url(raw: &str) -> Result<url::Url, String> {
    const SHAPE: &str = "Enter an http:// or https:// URL.";
    if raw.chars().count() > URL_MAX_CHARS {
        return Err(format!("A URL has {URL_MAX_CHARS} characters at most."));
    }
    let parsed = url::Url::parse(raw).map_err(|_| SHAPE.to_owned())?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(SHAPE.to_owned());
    }
    Ok(parsed)
}

/// Whether `ip` lies where a server should not send for someone else: loopback, private
/// (10/8, 172.16/12, 192.168/16), link-local (169.254/16, fe80::/10), shared (100.64/10),
/// unique-local (fc00::/7), "this network" (0/8), unspecified, broadcast or multicast; an
/// IPv4 address written as IPv6 counts as itself.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => private_v4(v4),
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or_else(|| private_v6(v6), private_v4),
    }
}

fn private_v4(ip: Ipv4Addr) -> bool {
    let [first, second, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || first == 0
        || (first == 100 && (64..128).contains(&second))
}

fn private_v6(ip: Ipv6Addr) -> bool {
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_ranges_are_told_from_public_ones() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.20.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(
                is_private(private.parse().expect("an address")),
                "{private}"
            );
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "172.32.0.1"] {
            assert!(!is_private(public.parse().expect("an address")), "{public}");
        }
    }

    #[test]
    fn only_http_urls_with_a_host_are_webhooks() {
        assert!(parse_url("https://hooks.example.com/clientele").is_ok());
        assert!(parse_url("http://[::1]:8080/x").is_ok());
        for bad in [
            "ftp://example.com",
            "https://",
            "example.com/hook",
            "javascript:alert(1)",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
