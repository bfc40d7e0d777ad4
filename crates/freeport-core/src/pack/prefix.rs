//! Lookup of HS-code prefixes: lists in a pack name chapters, headings, subheadings or tariff lines,
//! and a declared code matches every entry whose prefix it starts with.

use crate::fasthash::{FxHashMap, digits_key};
use crate::hs::HsCode;

#[derive(Debug, Clone)]
pub struct PrefixMap<T> {
    /// Keyed by the packed digits of the prefix (see `digits_key`); the prefix text is kept for
    /// listing and diffs.
    by_prefix: FxHashMap<u64, (String, Vec<T>)>,
    /// The prefix lengths present, so a lookup probes only those (at most ten probes).
    lengths: Vec<usize>,
}

impl<T> Default for PrefixMap<T> {
    fn default() -> Self {
        Self {
            by_prefix: FxHashMap::default(),
            lengths: Vec::new(),
        }
    }
}

impl<T> PrefixMap<T> {
    /// Inserts under a prefix of 1 to 10 digits; the pack parser checks the digits first.
    pub fn insert(&mut self, prefix: &str, value: T) {
        let Some(key) = digits_key(prefix) else {
            return;
        };
        if !self.lengths.contains(&prefix.len()) {
            self.lengths.push(prefix.len());
            self.lengths.sort_unstable();
        }
        self.by_prefix
            .entry(key)
            .or_insert_with(|| (prefix.to_owned(), Vec::new()))
            .1
            .push(value);
    }

    /// Every entry whose prefix the code starts with, shortest prefix first.
    pub fn matches<'a>(&'a self, code: &HsCode) -> impl Iterator<Item = &'a T> + use<'a, T> {
        let code = *code;
        self.lengths
            .iter()
            .filter_map(move |len| self.by_prefix.get(&code.prefix_key(*len)?).map(|(_, v)| v))
            .flatten()
    }

    pub fn is_empty(&self) -> bool {
        self.by_prefix.is_empty()
    }

    pub fn len(&self) -> usize {
        self.by_prefix.values().map(|(_, v)| v.len()).sum()
    }

    /// Every (prefix, entry), sorted by prefix for stable listings.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &T)> {
        let mut all: Vec<(&str, &T)> = self
            .by_prefix
            .values()
            .flat_map(|(k, vs)| vs.iter().map(move |v| (k.as_str(), v)))
            .collect();
        all.sort_by(|a, b| a.0.cmp(b.0));
        all.into_iter()
    }
}
