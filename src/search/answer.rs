//! An answer as a host's value ([`Build`]): JSON natively, a JavaScript object in the binding,
//! written once here. Absent rather than empty: `snippet`, `highlights` and a hit's `facets`
//! when not asked for, `truncated` when false, the counts' `facets` when none were asked for.

use super::{FacetCounts, Hit, SearchResults};
use crate::tree::Build;

impl SearchResults {
    /// `{total, hits, truncated?, facets?}`.
    pub fn to_tree<B: Build>(&self) -> B {
        let mut fields = vec![
            ("total", B::count(self.total as u64)),
            (
                "hits",
                B::list(self.hits.iter().map(Hit::to_tree).collect()),
            ),
        ];
        if self.truncated {
            fields.push(("truncated", B::bool(true)));
        }
        if !self.facets.is_empty() {
            fields.push(("facets", counts(&self.facets)));
        }
        B::map(fields)
    }
}

impl Hit {
    /// `{id, title, url, score, snippet?, highlights?, facets?}`.
    pub fn to_tree<B: Build>(&self) -> B {
        let mut fields = vec![
            ("id", B::text(&self.id)),
            ("title", B::text(&self.title)),
            ("url", B::text(&self.url)),
            ("score", B::float(self.score)),
        ];
        if let Some(snippet) = &self.snippet {
            fields.push(("snippet", B::text(snippet)));
        }
        if let Some(ranges) = &self.highlights {
            let pair = |r: &[u32; 2]| B::list(vec![B::count(r[0].into()), B::count(r[1].into())]);
            fields.push(("highlights", B::list(ranges.iter().map(pair).collect())));
        }
        if let Some(facets) = &self.facets {
            let values = |v: &Vec<String>| B::list(v.iter().map(|s| B::text(s)).collect());
            let by_field = facets.iter().map(|(f, v)| (f.as_str(), values(v)));
            fields.push(("facets", B::map(by_field.collect())));
        }
        B::map(fields)
    }
}

/// `{field: {value: count}}`.
fn counts<B: Build>(facets: &FacetCounts) -> B {
    let values = |v: &std::collections::BTreeMap<String, u32>| {
        B::map(
            v.iter()
                .map(|(k, n)| (k.as_str(), B::count((*n).into())))
                .collect(),
        )
    };
    B::map(
        facets
            .iter()
            .map(|(f, v)| (f.as_str(), values(v)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn hit(id: &str) -> Hit {
        Hit {
            id: id.into(),
            title: format!("{id} title"),
            url: String::new(),
            score: 1.25,
            snippet: None,
            highlights: None,
            facets: None,
        }
    }

    #[test]
    fn absent_parts_are_left_out_and_present_ones_written() {
        let plain = SearchResults {
            total: 3,
            hits: vec![hit("a")],
            truncated: false,
            facets: FacetCounts::new(),
        };
        assert_eq!(
            plain.to_tree::<Value>(),
            json!({"total": 3, "hits": [{"id": "a", "title": "a title", "url": "", "score": 1.25}]})
        );
        let mut full = hit("b");
        full.snippet = Some("x <y>".into());
        full.highlights = Some(vec![[0, 1], [3, 6]]);
        full.facets = Some([("tags".to_string(), vec!["t1".to_string(), "t2".to_string()])].into());
        let mut counts = FacetCounts::new();
        counts.insert(
            "tags".into(),
            [("t1".to_string(), 2u32), ("t2".to_string(), 1)].into(),
        );
        let answer = SearchResults {
            total: 1,
            hits: vec![full],
            truncated: true,
            facets: counts,
        };
        assert_eq!(
            answer.to_tree::<Value>(),
            json!({
                "total": 1,
                "hits": [{"id": "b", "title": "b title", "url": "", "score": 1.25,
                          "snippet": "x <y>", "highlights": [[0, 1], [3, 6]],
                          "facets": {"tags": ["t1", "t2"]}}],
                "truncated": true,
                "facets": {"tags": {"t1": 2, "t2": 1}}
            })
        );
    }

    #[test]
    fn a_score_is_its_f32_exactly() {
        let mut h = hit("c");
        h.score = 9.055;
        let shown = h.to_tree::<Value>()["score"].as_f64();
        assert_eq!(shown, Some(f64::from(9.055f32)));
        assert_eq!(shown.map(|s| s as f32), Some(9.055));
    }
}
