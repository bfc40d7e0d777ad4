//! The audit log: append-only, each entry an HMAC-SHA-256 over the previous entry's hash and its own
//! content, with the head (last sequence number and hash) kept in the same transaction. Editing,
//! inserting or deleting any entry, the newest included, breaks the chain or the head; without the
//! key, a chain cannot be recomputed to hide it.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub(crate) fn entry_hash(
    key: &[u8],
    prev_hash: &str,
    seq: i64,
    at_ms: i64,
    actor: &str,
    action: &str,
    subject: &str,
    payload: &str,
) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    // Length-prefixed fields: no two different entries serialise to the same bytes.
    for field in [
        prev_hash.as_bytes(),
        &seq.to_be_bytes(),
        &at_ms.to_be_bytes(),
        actor.as_bytes(),
        action.as_bytes(),
        subject.as_bytes(),
        payload.as_bytes(),
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
        let base = entry_hash(b"k", "p", 1, 2, "a", "b", "c", "d");
        assert_eq!(base.len(), 64);
        assert_ne!(base, entry_hash(b"k2", "p", 1, 2, "a", "b", "c", "d"));
        assert_ne!(base, entry_hash(b"k", "p", 1, 2, "a", "b", "c", "e"));
        assert_ne!(base, entry_hash(b"k", "p", 2, 2, "a", "b", "c", "d"));
        // Moving a boundary between fields changes the hash (length prefixes).
        assert_ne!(
            entry_hash(b"k", "p", 1, 2, "ab", "", "c", "d"),
            entry_hash(b"k", "p", 1, 2, "a", "b", "c", "d")
        );
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
