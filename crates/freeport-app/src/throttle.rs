//! Log-in throttling (`docs/operating/README.md`, "Log-in throttling"), shared by every edge that
//! opens sessions (the API, the console).
//!
//! Two limits, kept in the node's memory, applied the same way to known and unknown usernames so
//! that a refusal tells nothing about which accounts exist:
//! - per account: the first `free_failures` failures in a row cost nothing; each further one makes
//!   the account wait twice as long as the last, from 1 s up to `max_lock`. A success clears it.
//! - per source address: at most `address_failures` failures within `address_window`; past that
//!   the address waits until the window ends.
//!
//! A throttled attempt is answered `429 too_many_requests` with `Retry-After`, before any password
//! is hashed. Password hashing itself runs off the async workers, at most `hashing_permits` at a
//! time, so a guessing flood cannot take every core from other users' requests.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The throttling policy; the defaults are the documented ones.
#[derive(Debug, Clone, Copy)]
pub struct LoginPolicy {
    pub free_failures: u32,
    pub max_lock_ms: i64,
    pub address_failures: u32,
    pub address_window_ms: i64,
    pub hashing_permits: usize,
    /// Log-ins waiting for a hashing permit beyond this are refused at once (429, retry in 1 s).
    pub max_waiting: usize,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        LoginPolicy {
            free_failures: 5,
            max_lock_ms: 15 * 60 * 1000,
            address_failures: 30,
            address_window_ms: 60 * 1000,
            // One core is always left to everything else.
            hashing_permits: cores.saturating_sub(1).max(1),
            max_waiting: 64,
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Failures {
    count: u32,
    since_ms: i64,
    locked_until_ms: i64,
}

/// Entries kept before stale ones are swept, bounding the memory a flood of usernames can take.
const SWEEP_AT: usize = 100_000;

pub struct LoginThrottle {
    policy: LoginPolicy,
    accounts: Mutex<HashMap<String, Failures>>,
    addresses: Mutex<HashMap<IpAddr, Failures>>,
    hashing: tokio::sync::Semaphore,
    waiting: AtomicUsize,
}

/// Refused: retry after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

fn seconds_until(now_ms: i64, until_ms: i64) -> RetryAfter {
    RetryAfter(
        u64::try_from((until_ms - now_ms + 999) / 1000)
            .unwrap_or(1)
            .max(1),
    )
}

impl LoginThrottle {
    pub fn new(policy: LoginPolicy) -> LoginThrottle {
        LoginThrottle {
            policy,
            accounts: Mutex::new(HashMap::new()),
            addresses: Mutex::new(HashMap::new()),
            hashing: tokio::sync::Semaphore::new(policy.hashing_permits),
            waiting: AtomicUsize::new(0),
        }
    }

    /// Whether an attempt for `username` from `address` may go ahead at `now_ms`.
    pub fn check(&self, username: &str, address: IpAddr, now_ms: i64) -> Result<(), RetryAfter> {
        let account_lock = self.accounts.lock().map_or(0, |m| {
            m.get(&key(username)).map_or(0, |f| f.locked_until_ms)
        });
        let address_lock = self
            .addresses
            .lock()
            .map_or(0, |m| m.get(&address).map_or(0, |f| f.locked_until_ms));
        let until = account_lock.max(address_lock);
        if until > now_ms {
            return Err(seconds_until(now_ms, until));
        }
        Ok(())
    }

    /// Records a failed attempt.
    pub fn failed(&self, username: &str, address: IpAddr, now_ms: i64) {
        let p = self.policy;
        if let Ok(mut accounts) = self.accounts.lock() {
            sweep(&mut accounts, now_ms, p.max_lock_ms);
            let f = accounts.entry(key(username)).or_default();
            f.count = f.count.saturating_add(1);
            f.since_ms = now_ms;
            if f.count > p.free_failures {
                let doublings = (f.count - p.free_failures - 1).min(30);
                let lock = (1000i64 << doublings).min(p.max_lock_ms);
                f.locked_until_ms = now_ms + lock;
            }
        }
        if let Ok(mut addresses) = self.addresses.lock() {
            sweep(&mut addresses, now_ms, p.address_window_ms);
            let f = addresses.entry(address).or_default();
            if f.count == 0 || now_ms - f.since_ms > p.address_window_ms {
                *f = Failures {
                    count: 0,
                    since_ms: now_ms,
                    locked_until_ms: 0,
                };
            }
            f.count = f.count.saturating_add(1);
            if f.count >= p.address_failures {
                f.locked_until_ms = f.since_ms + p.address_window_ms;
            }
        }
    }

    /// A successful log-in clears the account's failures (the address's stay: they may be
    /// another account's guesses).
    pub fn succeeded(&self, username: &str) {
        if let Ok(mut accounts) = self.accounts.lock() {
            accounts.remove(&key(username));
        }
    }

    /// Runs `verify` (a password hash check) on a blocking thread once a hashing permit is free;
    /// refuses at once when too many log-ins already wait.
    pub async fn hash<T: Send + 'static>(
        &self,
        verify: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, RetryAfter> {
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.policy.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(RetryAfter(1));
        }
        let permit = self.hashing.acquire().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let result = tokio::task::spawn_blocking(verify).await;
        drop(permit);
        result.map_err(|_| RetryAfter(1))
    }
}

/// The log-in use case checks its password within the bound.
impl crate::sessions::HashingBound for LoginThrottle {
    async fn run<T: Send + 'static>(
        &self,
        check: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, crate::sessions::Busy> {
        self.hash(check)
            .await
            .map_err(|RetryAfter(retry_after_s)| crate::sessions::Busy { retry_after_s })
    }
}

/// Usernames are compared as typed, but a flood of case variants counts as one account.
fn key(username: &str) -> String {
    username.trim().to_lowercase()
}

/// Drops entries that no longer lock anything and whose failures are older than `keep_ms`, once
/// the map is large.
fn sweep<K: Eq + std::hash::Hash>(map: &mut HashMap<K, Failures>, now_ms: i64, keep_ms: i64) {
    if map.len() >= SWEEP_AT {
        map.retain(|_, f| f.locked_until_ms > now_ms || now_ms - f.since_ms <= keep_ms);
    }
}

/// Public look-ups (a traveller's own allowance, with no account): at most `per_window` from one
/// source address in `window_ms`, so a document number cannot be tried against the platform at
/// speed.
pub struct LookupLimit {
    per_window: u32,
    window_ms: i64,
    addresses: Mutex<HashMap<IpAddr, Failures>>,
}

impl LookupLimit {
    pub fn new(per_window: u32, window_ms: i64) -> LookupLimit {
        LookupLimit {
            per_window,
            window_ms,
            addresses: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one look-up for `address` at `now_ms`, or says how long to wait. An IPv6 address
    /// counts by its /64, which one subscriber holds whole.
    pub fn take(&self, address: IpAddr, now_ms: i64) -> Result<(), RetryAfter> {
        let address = match address {
            IpAddr::V6(v6) => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(std::net::Ipv6Addr::from(bits))
            }
            v4 => v4,
        };
        let Ok(mut addresses) = self.addresses.lock() else {
            return Err(RetryAfter(1));
        };
        sweep(&mut addresses, now_ms, self.window_ms);
        let f = addresses.entry(address).or_default();
        if f.count == 0 || now_ms - f.since_ms >= self.window_ms {
            *f = Failures {
                count: 0,
                since_ms: now_ms,
                locked_until_ms: 0,
            };
        }
        if f.count >= self.per_window {
            return Err(seconds_until(now_ms, f.since_ms + self.window_ms));
        }
        f.count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn look_ups_are_limited_per_address_and_window() {
        let limit = LookupLimit::new(3, 60_000);
        let (a, b): (IpAddr, IpAddr) = (
            "10.0.0.1".parse().expect("ip"),
            "10.0.0.2".parse().expect("ip"),
        );
        for _ in 0..3 {
            assert_eq!(limit.take(a, 1_000), Ok(()));
        }
        assert_eq!(limit.take(a, 2_000), Err(RetryAfter(59)));
        assert_eq!(limit.take(b, 2_000), Ok(()), "another address has its own");
        assert_eq!(limit.take(a, 61_000), Ok(()), "a new window");
        let (c, d): (IpAddr, IpAddr) = (
            "2001:db8::1".parse().expect("ip"),
            "2001:db8::ffff:2".parse().expect("ip"),
        );
        for _ in 0..3 {
            assert_eq!(limit.take(c, 1_000), Ok(()));
        }
        assert!(limit.take(d, 1_000).is_err(), "one /64 is one subscriber");
    }

    use super::*;

    fn policy() -> LoginPolicy {
        LoginPolicy {
            free_failures: 5,
            max_lock_ms: 900_000,
            address_failures: 30,
            address_window_ms: 60_000,
            hashing_permits: 1,
            max_waiting: 4,
        }
    }

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn an_account_waits_twice_as_long_after_each_failure_beyond_the_free_ones() {
        let t = LoginThrottle::new(policy());
        let mut now = 0;
        for _ in 0..5 {
            assert_eq!(t.check("officer", HOME, now), Ok(()));
            t.failed("officer", HOME, now);
        }
        assert_eq!(t.check("officer", HOME, now), Ok(()), "five are free");
        t.failed("officer", HOME, now);
        assert_eq!(t.check("Officer", HOME, now), Err(RetryAfter(1)));
        now += 1000;
        t.failed("officer", HOME, now);
        assert_eq!(t.check("officer", HOME, now), Err(RetryAfter(2)));
        now += 2000;
        t.failed("officer", HOME, now);
        assert_eq!(t.check("officer", HOME, now), Err(RetryAfter(4)));
        // Another account from another address is not affected.
        let other = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(t.check("analyst", other, now), Ok(()));
        // The lock is capped, and a success clears it.
        for _ in 0..40 {
            t.failed("officer", other, now);
        }
        assert_eq!(t.check("officer", other, now), Err(RetryAfter(900)));
        t.succeeded("officer");
        assert_eq!(t.check("officer", HOME, now), Ok(()));
    }

    #[test]
    fn an_address_is_refused_after_its_failures_in_a_window_until_the_window_ends() {
        let t = LoginThrottle::new(policy());
        for i in 0..29 {
            t.failed(&format!("user{i}"), HOME, 1_000);
        }
        assert_eq!(t.check("someone", HOME, 1_000), Ok(()));
        t.failed("user29", HOME, 1_000);
        assert_eq!(t.check("someone", HOME, 31_000), Err(RetryAfter(30)));
        assert_eq!(t.check("someone", HOME, 61_000), Ok(()));
    }
}
