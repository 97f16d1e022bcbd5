//! Shared by the integration tests (this is not a test itself).

/// JSON Lines of `docs` generated documents (ids `{id_prefix}0`, `{id_prefix}1`, …) over
/// `words`, skewed towards the first words (a word is picked by the square of a uniform draw),
/// with titles of `title.0 + r % title.1` words and bodies of `body.0 + r % body.1` words, all
/// from an xorshift generator seeded with `seed`. Deterministic: the golden many-blocks index
/// is built from it.
pub fn skewed_jsonl(
    docs: usize,
    id_prefix: &str,
    words: &[String],
    seed: u64,
    title: (u64, u64),
    body: (u64, u64),
) -> String {
    let state = std::cell::Cell::new(seed);
    let next = || {
        let mut s = state.get();
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        state.set(s);
        s
    };
    let pick = |n: u64| -> String {
        (0..n)
            .map(|_| {
                let u = (next() % 1000) as f64 / 1000.0;
                words[(u * u * words.len() as f64) as usize].clone()
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut out = String::new();
    for d in 0..docs {
        let title = pick(title.0 + next() % title.1);
        let body = pick(body.0 + next() % body.1);
        let doc =
            serde_json::json!({"id": format!("{id_prefix}{d}"), "title": title, "body": body});
        out += &doc.to_string();
        out.push('\n');
    }
    out
}
