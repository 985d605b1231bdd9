//! Who a client is (an address, through trusted proxies only) and a token bucket per client
//! with bounded memory: a limiter remembers at most `capacity` clients, forgetting first those
//! whose bucket has refilled (they lose nothing) and then the least recently seen.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A client as the limits see it: an IPv4 address, or an IPv6 address's /64 (one subscriber
/// gets a whole /64, so counting single IPv6 addresses would give one client billions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(u128);

impl ClientKey {
    pub fn of(ip: IpAddr) -> ClientKey {
        match ip {
            IpAddr::V4(v4) => ClientKey(u128::from(u32::from(v4))),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey(u128::from(u32::from(v4))),
                // Bit 63 (never set by an IPv4 address) marks IPv6: no /64 equals an IPv4.
                None => ClientKey((u128::from(v6) & (!0u128 << 64)) | (1 << 63)),
            },
        }
    }
}

/// The client as text, for limits counted in the database: an IPv4 address, or an IPv6
/// address's /64 (as `ClientKey` groups them).
pub fn label(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let net = std::net::Ipv6Addr::from(u128::from(v6) & (!0u128 << 64));
            format!("{net}/64")
        }
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(|v4| v4.to_string())
            .unwrap_or_default(),
        v4 => v4.to_string(),
    }
}

pub use crate::net::{Cidr, parse_proxies};

/// The client of a request: the peer, unless the peer is a trusted proxy; then the rightmost
/// address of `X-Forwarded-For` (all its values, in order) that is not a trusted proxy. Only
/// what our own proxies appended is believed: anything further left is the client's to forge.
pub fn client_ip<'a>(
    peer: Option<IpAddr>,
    forwarded_for: impl Iterator<Item = &'a str>,
    trusted: &[Cidr],
) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let hops: Vec<&str> = forwarded_for
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        // An address we cannot read was written by someone we do not trust: stop at the
        // last one we could.
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    Some(client)
}

/// The per-client limiters of one process, with the proxies it trusts.
#[derive(Debug)]
pub struct ClientLimits {
    pub trusted: Vec<Cidr>,
    /// Sign-in, registration, invitations, password links, subscriptions: any site.
    pub account: KeyedLimiter<ClientKey>,
    /// Each client's bucket inside its province's.
    pub share: KeyedLimiter<(crate::ids::TenantId, ClientKey)>,
}

impl ClientLimits {
    pub fn new(s: &crate::config::LimitsSettings) -> ClientLimits {
        ClientLimits {
            // Checked when the settings were loaded; a bad list cannot reach here.
            trusted: parse_proxies(&s.trusted_proxies).unwrap_or_default(),
            account: KeyedLimiter::new(s.max_clients),
            share: KeyedLimiter::new(s.max_clients),
        }
    }

    /// One request to an account door (sign-in, registration, …) by `client`.
    pub fn admit_account(
        &self,
        client: ClientKey,
        s: &crate::config::LimitsSettings,
    ) -> Result<(), Duration> {
        self.account.admit(
            client,
            f64::from(s.account_per_minute) / 60.0,
            f64::from(s.account_burst),
        )
    }

    /// One request of `client` to a province whose plan allows `rps` with `burst`: the
    /// client's share of both, at least 1 request/s and a burst of 5 (never more than the
    /// province's own).
    pub fn admit_share(
        &self,
        tenant: crate::ids::TenantId,
        client: ClientKey,
        rps: f64,
        burst: f64,
        s: &crate::config::LimitsSettings,
    ) -> Result<(), Duration> {
        let share = f64::from(s.client_share_percent) / 100.0;
        let rate = (rps * share).max(1.0).min(rps);
        let burst = (burst * share).max(5.0).min(burst);
        self.share.admit((tenant, client), rate, burst)
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
    /// When the bucket will be full again: after that, forgetting it changes nothing.
    full_at: Instant,
}

/// A token bucket per key, at most `capacity` keys.
#[derive(Debug)]
pub struct KeyedLimiter<K> {
    buckets: Mutex<HashMap<K, Bucket>>,
    capacity: usize,
}

impl<K: Eq + Hash + Copy> KeyedLimiter<K> {
    pub fn new(capacity: usize) -> KeyedLimiter<K> {
        KeyedLimiter {
            buckets: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// Takes one token from `key`'s bucket; `Err(wait)` when it is empty.
    pub fn admit(&self, key: K, rate_per_sec: f64, burst: f64) -> Result<(), Duration> {
        let now = Instant::now();
        let rate = rate_per_sec.max(0.001);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if !buckets.contains_key(&key) && buckets.len() >= self.capacity {
            evict(&mut buckets, self.capacity, now);
        }
        let b = buckets.entry(key).or_insert(Bucket {
            tokens: burst,
            last: now,
            full_at: now,
        });
        let elapsed = now.duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(burst);
        b.last = now;
        let result = if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / rate))
        };
        b.full_at = now + Duration::from_secs_f64(((burst - b.tokens) / rate).min(86_400.0));
        result
    }

    /// Clients remembered now (for tests and metrics).
    pub fn len(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Makes room: forgets every refilled bucket, then, if that freed less than a tenth, the
/// least recently seen tenth. One pass of O(n) per n/10 new clients at worst.
fn evict<K: Eq + Hash + Copy>(buckets: &mut HashMap<K, Bucket>, capacity: usize, now: Instant) {
    buckets.retain(|_, b| b.full_at > now);
    let room = (capacity / 10).max(1);
    if buckets.len() + room <= capacity {
        return;
    }
    let excess = buckets.len() + room - capacity;
    let mut seen: Vec<(Instant, K)> = buckets.iter().map(|(k, b)| (b.last, *k)).collect();
    let excess = excess.min(seen.len());
    if excess == 0 {
        return;
    }
    seen.select_nth_unstable_by_key(excess - 1, |(last, _)| *last);
    for (_, k) in &seen[..excess] {
        buckets.remove(k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(
            ClientKey::of(ip("2001:db8:1:2::1")),
            ClientKey::of(ip("2001:db8:1:2:ffff::9"))
        );
        assert_ne!(
            ClientKey::of(ip("2001:db8:1:2::1")),
            ClientKey::of(ip("2001:db8:1:3::1"))
        );
        assert_eq!(
            ClientKey::of(ip("::ffff:192.0.2.7")),
            ClientKey::of(ip("192.0.2.7"))
        );
        assert_ne!(
            ClientKey::of(ip("192.0.2.7")),
            ClientKey::of(ip("192.0.2.8"))
        );
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let trusted = parse_proxies("10.0.0.0/8, 127.0.0.1").unwrap();
        let xff = ["203.0.113.9, 198.51.100.1", "10.1.2.3"];
        // From an untrusted peer, the header is the client's to forge: ignored.
        assert_eq!(
            client_ip(Some(ip("192.0.2.1")), xff.into_iter(), &trusted),
            Some(ip("192.0.2.1"))
        );
        // Through our proxies: the rightmost address that is not one of them.
        assert_eq!(
            client_ip(Some(ip("127.0.0.1")), xff.into_iter(), &trusted),
            Some(ip("198.51.100.1"))
        );
        // Nothing trusted configured: the peer, whatever the header says.
        assert_eq!(
            client_ip(Some(ip("127.0.0.1")), xff.into_iter(), &[]),
            Some(ip("127.0.0.1"))
        );
        // A garbled hop stops the walk at the last readable trusted one.
        assert_eq!(
            client_ip(Some(ip("127.0.0.1")), ["x, 10.0.0.5"].into_iter(), &trusted),
            Some(ip("10.0.0.5"))
        );
        assert!(parse_proxies("10.0.0.0/33").is_err());
        assert!(parse_proxies("proxy.local").is_err());
        assert_eq!(parse_proxies(" ").unwrap(), vec![]);
    }

    #[test]
    fn each_client_has_its_own_bucket() {
        let l = KeyedLimiter::new(100);
        for _ in 0..3 {
            assert!(l.admit(1u32, 1.0, 3.0).is_ok());
        }
        let wait = l.admit(1, 1.0, 3.0).unwrap_err();
        assert!(wait > Duration::from_millis(500) && wait <= Duration::from_secs(1));
        assert!(l.admit(2, 1.0, 3.0).is_ok());
    }

    #[test]
    fn memory_stays_bounded_under_a_flood_of_new_clients() {
        let l = KeyedLimiter::new(1000);
        for k in 0..50_000u32 {
            let _ = l.admit(k, 0.001, 2.0);
            assert!(l.len() <= 1000);
        }
        // The most recent clients are remembered: their buckets are not reset.
        assert!(l.admit(49_999, 0.001, 2.0).is_ok());
        assert!(l.admit(49_999, 0.001, 2.0).is_err());
    }

    #[test]
    fn refilled_buckets_are_forgotten_first() {
        let l = KeyedLimiter::new(10);
        // Drained, and slow to refill: worth remembering.
        assert!(l.admit(0u32, 0.001, 1.0).is_ok());
        // Nine buckets that are full again at once (a huge rate).
        for k in 1..10 {
            assert!(l.admit(k, 1e9, 1.0).is_ok());
        }
        std::thread::sleep(Duration::from_millis(2));
        assert!(l.admit(10, 1.0, 1.0).is_ok());
        assert!(
            l.admit(0, 0.001, 1.0).is_err(),
            "the drained client was kept"
        );
    }
}
