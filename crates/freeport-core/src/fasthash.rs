//! A small, fast, non-cryptographic hasher for lookups keyed by our own data (packed HS prefixes,
//! rule ids). The pack is trusted reference data, so resistance to hash flooding is not needed on
//! these maps, and SipHash cost dominated `decide()` before this was introduced.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The multiply-rotate scheme popularised by Firefox's and rustc's FxHash (written here from the
/// published description: rotate, xor the word, multiply by a constant).
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(buf));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

pub type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Packs a string of up to 15 ASCII digits into one integer key, keeping its length so that "02"
/// and "0002" differ. `None` for anything else.
pub fn digits_key(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 15 {
        return None;
    }
    let mut value: u64 = 0;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u64::from(b - b'0');
    }
    Some((value << 4) | s.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_keys_keep_length_and_value_apart() {
        assert_ne!(digits_key("02"), digits_key("0002"));
        assert_ne!(digits_key("0202"), digits_key("0203"));
        assert_eq!(digits_key("0202"), digits_key("0202"));
        assert_eq!(digits_key("02a2"), None);
        assert_eq!(digits_key(""), None);
    }
}
