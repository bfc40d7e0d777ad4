//! The audit log: append-only, each entry an HMAC-SHA-256 over the previous entry's hash and its own
//! content, with the head (last sequence number and hash) kept in the same transaction. Editing,
//! inserting or deleting any entry, the newest included, breaks the chain or the head; without the
//! key, a chain cannot be recomputed to hide it.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The content of one audit entry, as hashed.
pub(crate) struct Entry<'a> {
    pub(crate) seq: i64,
    pub(crate) at_ms: i64,
    pub(crate) actor: &'a str,
    pub(crate) action: &'a str,
    pub(crate) subject: &'a str,
    pub(crate) payload: &'a str,
}

pub(crate) fn entry_hash(key: &[u8], prev_hash: &str, e: &Entry<'_>) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    // Length-prefixed fields: no two different entries serialise to the same bytes.
    let (seq, at) = (e.seq.to_be_bytes(), e.at_ms.to_be_bytes());
    for field in [
        prev_hash.as_bytes(),
        &seq,
        &at,
        e.actor.as_bytes(),
        e.action.as_bytes(),
        e.subject.as_bytes(),
        e.payload.as_bytes(),
    ] {
        mac.update(&(field.len() as u64).to_be_bytes());
        mac.update(field);
    }
    hex(&mac.finalize().into_bytes())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex(&Sha256::digest(bytes))
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditReport {
    pub entries: i64,
    pub intact: bool,
    /// The first problem found, with the sequence number where it shows.
    pub problem: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_depend_on_every_field_and_the_key() {
        let e = |seq, actor, action, payload| Entry {
            seq,
            at_ms: 2,
            actor,
            action,
            subject: "c",
            payload,
        };
        let base = entry_hash(b"k", "p", &e(1, "a", "b", "d"));
        assert_eq!(base.len(), 64);
        assert_ne!(base, entry_hash(b"k2", "p", &e(1, "a", "b", "d")));
        assert_ne!(base, entry_hash(b"k", "p", &e(1, "a", "b", "e")));
        assert_ne!(base, entry_hash(b"k", "p", &e(2, "a", "b", "d")));
        assert_ne!(base, entry_hash(b"k", "q", &e(1, "a", "b", "d")));
        // Moving a boundary between fields changes the hash (length prefixes).
        assert_ne!(entry_hash(b"k", "p", &e(1, "ab", "", "d")), base);
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
