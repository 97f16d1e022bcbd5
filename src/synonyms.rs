//! Which words mean the same? The SYNONYMS section (section id 12): groups of equivalent words
//! or phrases from the build config (`synonyms = [["k8s", "kubernetes"]]`), written as given
//! and matched at query time on their folded form, so a query word finds what any word of its
//! group finds.

use std::collections::HashMap;

use crate::codec::{put_str, put_varint, Reader};
use crate::error::{Error, Result};

/// Most groups one index may have.
pub const MAX_GROUPS: usize = 10_000;
/// Most words or phrases in one group.
pub const MAX_GROUP_LEN: usize = 16;
/// Longest word or phrase of a group, in bytes.
pub const MAX_SYNONYM_BYTES: usize = 128;

/// Checks groups from a config: each of 2 to [`MAX_GROUP_LEN`] non-empty entries of at most
/// [`MAX_SYNONYM_BYTES`], at most [`MAX_GROUPS`] groups.
pub fn check(groups: &[Vec<String>]) -> std::result::Result<(), String> {
    if groups.len() > MAX_GROUPS {
        return Err(format!(
            "{} synonym groups; at most {MAX_GROUPS} are allowed",
            groups.len()
        ));
    }
    for g in groups {
        if !(2..=MAX_GROUP_LEN).contains(&g.len()) {
            return Err(format!(
                "synonym group {}: give between 2 and {MAX_GROUP_LEN} words or phrases",
                crate::error::quoted_list(g)
            ));
        }
        for w in g {
            if w.trim().is_empty() || w.len() > MAX_SYNONYM_BYTES {
                return Err(format!(
                    "synonym {}: use non-empty text of at most {MAX_SYNONYM_BYTES} bytes",
                    crate::error::Quoted(w)
                ));
            }
        }
    }
    Ok(())
}

/// The section's bytes.
pub fn encode(groups: &[Vec<String>]) -> Vec<u8> {
    let mut out = Vec::new();
    put_varint(&mut out, groups.len() as u64);
    for g in groups {
        put_varint(&mut out, g.len() as u64);
        for w in g {
            put_str(&mut out, w);
        }
    }
    out
}

/// Reads a SYNONYMS section, refusing anything [`check`] would.
pub fn decode(bytes: &[u8]) -> Result<Vec<Vec<String>>> {
    let mut r = Reader::new(bytes, "synonyms");
    let n = r.varint()? as usize;
    if n > MAX_GROUPS {
        return Err(Error::corrupt("synonyms: too many groups"));
    }
    let mut groups = Vec::with_capacity(n.min(r.remaining()));
    for _ in 0..n {
        let len = r.varint()? as usize;
        if len > MAX_GROUP_LEN {
            return Err(Error::corrupt("synonyms: group too long"));
        }
        let mut g = Vec::with_capacity(len);
        for _ in 0..len {
            g.push(r.str()?.to_string());
        }
        groups.push(g);
    }
    check(&groups).map_err(|m| Error::corrupt(format!("synonyms: {m}")))?;
    Ok(groups)
}

/// Groups keyed by the folded form of each entry (`key` is how the index's analyzer folds
/// text: its terms joined by spaces).
#[derive(Clone, Debug, Default)]
pub struct Synonyms {
    groups: Vec<Vec<String>>,
    /// Each entry's folded form, as `groups` (computed once: a query compares, it does not
    /// analyze the groups again).
    keys: Vec<Vec<String>>,
    by_key: HashMap<String, Vec<usize>>,
}

impl Synonyms {
    /// Keys every entry of `groups` through `key`.
    pub fn new(groups: Vec<Vec<String>>, key: impl Fn(&str) -> String) -> Self {
        let keys: Vec<Vec<String>> = groups
            .iter()
            .map(|g| g.iter().map(|w| key(w)).collect())
            .collect();
        let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, g) in keys.iter().enumerate() {
            for k in g.iter().filter(|k| !k.is_empty()) {
                let e = by_key.entry(k.clone()).or_default();
                if e.last() != Some(&i) {
                    e.push(i);
                }
            }
        }
        Synonyms {
            groups,
            keys,
            by_key,
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The other entries of the groups holding the text whose folded form is `key`, as written
    /// in the config, each once, at most [`MAX_GROUP_LEN`].
    pub fn of(&self, key: &str) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for &g in self.by_key.get(key).into_iter().flatten() {
            for (w, k) in self.groups[g].iter().zip(&self.keys[g]) {
                if k != key && !out.contains(&w.as_str()) {
                    out.push(w);
                    if out.len() == MAX_GROUP_LEN {
                        return out;
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_checks() {
        let groups = vec![
            vec!["k8s".to_string(), "Kubernetes".to_string()],
            vec!["js".into(), "javascript".into(), "ecmascript".into()],
        ];
        assert_eq!(decode(&encode(&groups)).unwrap(), groups);
        assert!(check(&[vec!["alone".into()]]).is_err());
        assert!(check(&[vec!["a".into(), " ".into()]]).is_err());
        assert!(decode(&[1, 1, 1, b'a']).is_err());
        let s = Synonyms::new(groups, |w| w.to_lowercase());
        assert_eq!(s.of("kubernetes"), ["k8s"]);
        assert_eq!(s.of("js"), ["javascript", "ecmascript"]);
        assert!(s.of("python").is_empty());
    }

    /// A word in every group of a hostile index: looking it up analyzes nothing (each entry
    /// was keyed once, at open) and gives at most [`MAX_GROUP_LEN`] synonyms.
    #[test]
    fn lookups_compare_keys_computed_once() {
        let groups: Vec<Vec<String>> = (0..MAX_GROUPS)
            .map(|i| {
                let mut g = vec!["k8s".to_string(), "K8S".to_string()];
                g.extend((0..MAX_GROUP_LEN - 2).map(|j| format!("w{i}x{j}")));
                g
            })
            .collect();
        let calls = std::cell::Cell::new(0usize);
        let s = Synonyms::new(groups, |w| {
            calls.set(calls.get() + 1);
            w.to_lowercase()
        });
        assert_eq!(calls.get(), MAX_GROUPS * MAX_GROUP_LEN);
        let found = s.of("k8s");
        assert_eq!(found.len(), MAX_GROUP_LEN);
        assert_eq!(found[..2], ["w0x0", "w0x1"]);
        assert_eq!(
            calls.get(),
            MAX_GROUPS * MAX_GROUP_LEN,
            "of() analyzed nothing"
        );
    }
}
