//! Addresses and CIDR blocks, as settings name them (`limits.trusted_proxies`). A leaf: the
//! settings check them when they load, the limits use them on each request.

use std::net::IpAddr;

/// One trusted proxy entry: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl Cidr {
    /// Whether `ip` (an IPv4-mapped IPv6 address counts as IPv4) is inside the block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        fn masked(v: u128, bits: u8, width: u8) -> u128 {
            if bits == 0 { 0 } else { v >> (width - bits) }
        }
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                masked(u128::from(u32::from(n)), self.bits, 32)
                    == masked(u128::from(u32::from(a)), self.bits, 32)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                masked(u128::from(n), self.bits, 128) == masked(u128::from(a), self.bits, 128)
            }
            _ => false,
        }
    }
}

/// `"10.0.0.0/8, 127.0.0.1, fd00::/8"` → the entries; a bad one is named in the error.
pub fn parse_proxies(list: &str) -> Result<Vec<Cidr>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|entry| {
            let (addr, bits) = match entry.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (entry, None),
            };
            let net: IpAddr = addr
                .parse()
                .map_err(|_| format!("`{entry}` is not an address or a CIDR block"))?;
            let width = if net.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                None => width,
                Some(b) => b
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= width)
                    .ok_or_else(|| format!("`{entry}` has a bad prefix length"))?,
            };
            Ok(Cidr { net, bits })
        })
        .collect()
}
