//! Lookup of HS-code prefixes: lists in a pack name chapters, headings, subheadings or tariff lines,
//! and a declared code matches every entry whose prefix it starts with.

use std::collections::HashMap;

use crate::hs::HsCode;

#[derive(Debug, Clone)]
pub struct PrefixMap<T> {
    by_prefix: HashMap<String, Vec<T>>,
    /// The prefix lengths present, so a lookup probes only those (at most five probes).
    lengths: Vec<usize>,
}

impl<T> Default for PrefixMap<T> {
    fn default() -> Self {
        Self { by_prefix: HashMap::new(), lengths: Vec::new() }
    }
}

impl<T> PrefixMap<T> {
    pub fn insert(&mut self, prefix: &str, value: T) {
        if !self.lengths.contains(&prefix.len()) {
            self.lengths.push(prefix.len());
            self.lengths.sort_unstable();
        }
        self.by_prefix.entry(prefix.to_owned()).or_default().push(value);
    }

    /// Every entry whose prefix the code starts with, shortest prefix first.
    pub fn matches<'a>(&'a self, code: &HsCode) -> impl Iterator<Item = &'a T> + use<'a, T> {
        let code = *code;
        self.lengths
            .iter()
            .filter_map(move |len| {
                let s = code.as_str();
                if *len <= s.len() { self.by_prefix.get(&s[..*len]) } else { None }
            })
            .flatten()
    }

    pub fn is_empty(&self) -> bool {
        self.by_prefix.is_empty()
    }

    pub fn len(&self) -> usize {
        self.by_prefix.values().map(Vec::len).sum()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &T)> {
        self.by_prefix.iter().flat_map(|(k, vs)| vs.iter().map(move |v| (k.as_str(), v)))
    }
}
