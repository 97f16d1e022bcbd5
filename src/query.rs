//! What does a query string mean?
//!
//! The syntax (documented in `docs/QUERY.md`): words are ANDed; `OR` between two items makes
//! them alternatives; `-item` excludes; `"exact phrase"`; `word*` is a prefix; `field:item`
//! restricts an item to one field. The last word also matches as a prefix while it is being
//! typed (no trailing space). Parsing never fails: unbalanced quotes close at the end, lone
//! operators are ignored, and an empty query has no items.

/// How an item takes part in the query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Occur {
    /// The document should contain it (implicit AND).
    Must,
    /// The document must not contain it.
    MustNot,
}

/// One word or phrase of a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// The field it is restricted to, if any (`title:` → `Some("title")`).
    pub field: Option<String>,
    /// Its raw text (analyzed later, with the index's analyzer).
    pub text: String,
    /// A quoted phrase.
    pub phrase: bool,
    /// Ends in `*`, or is the last word being typed.
    pub prefix: bool,
}

/// A group of alternatives (`a OR b`), with how it occurs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clause {
    /// Must or must not.
    pub occur: Occur,
    /// Alternatives; a document matches the clause when it matches any.
    pub items: Vec<Item>,
}

/// A parsed query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// Its clauses, in order.
    pub clauses: Vec<Clause>,
}

/// Most clauses kept from one query; the rest are ignored (a budget, not an error).
pub const MAX_CLAUSES: usize = 32;

#[derive(Debug)]
enum Tok {
    Item { item: Item, negated: bool },
    Or,
}

/// Parses `input`. With `auto_prefix`, the last word is a prefix unless the input ends in
/// whitespace.
pub fn parse(input: &str, auto_prefix: bool) -> Query {
    let chars: Vec<char> = input.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let mut negated = false;
        let start = i;
        if c == '-' || c == '!' {
            negated = true;
            i += 1;
        }
        // Optional `field:` prefix.
        let mut field = None;
        let mut j = i;
        while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_' || chars[j] == '-')
        {
            j += 1;
        }
        if j > i && j + 1 < chars.len() && chars[j] == ':' && !chars[j + 1].is_whitespace() {
            field = Some(chars[i..j].iter().collect::<String>());
            i = j + 1;
        }
        if i < chars.len() && chars[i] == '"' {
            let mut k = i + 1;
            while k < chars.len() && chars[k] != '"' {
                k += 1;
            }
            let text: String = chars[i + 1..k].iter().collect();
            i = (k + 1).min(chars.len());
            if !text.trim().is_empty() {
                toks.push(Tok::Item {
                    item: Item {
                        field,
                        text,
                        phrase: true,
                        prefix: false,
                    },
                    negated,
                });
            }
            continue;
        }
        let mut k = i;
        while k < chars.len() && !chars[k].is_whitespace() && chars[k] != '"' {
            k += 1;
        }
        let mut text: String = chars[i..k].iter().collect();
        let at_end = k == chars.len();
        i = k;
        if field.is_none() && !negated && text == "OR" {
            toks.push(Tok::Or);
            continue;
        }
        let mut prefix = false;
        while text.ends_with('*') {
            text.pop();
            prefix = true;
        }
        if auto_prefix && at_end && !negated {
            prefix = true;
        }
        if text.chars().any(char::is_alphanumeric) {
            toks.push(Tok::Item {
                item: Item {
                    field,
                    text,
                    phrase: false,
                    prefix,
                },
                negated,
            });
        } else if negated && start + 1 == i {
            // A lone `-`: ignored.
        }
    }

    // Fold `a OR b` into one clause; `OR` at an edge or next to another `OR` is ignored.
    let mut clauses: Vec<Clause> = Vec::new();
    let mut join_next = false;
    for t in toks {
        match t {
            Tok::Or => join_next = !clauses.is_empty(),
            Tok::Item { item, negated } => {
                let occur = if negated { Occur::MustNot } else { Occur::Must };
                match clauses.last_mut() {
                    Some(last)
                        if join_next && last.occur == Occur::Must && occur == Occur::Must =>
                    {
                        last.items.push(item)
                    }
                    _ => clauses.push(Clause {
                        occur,
                        items: vec![item],
                    }),
                }
                join_next = false;
            }
        }
    }
    clauses.truncate(MAX_CLAUSES);
    Query { clauses }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(q: &Query) -> String {
        q.clauses
            .iter()
            .map(|c| {
                let items: Vec<String> = c
                    .items
                    .iter()
                    .map(|it| {
                        let mut s = String::new();
                        if let Some(f) = &it.field {
                            s.push_str(f);
                            s.push(':');
                        }
                        if it.phrase {
                            s.push_str(&format!("\"{}\"", it.text));
                        } else {
                            s.push_str(&it.text);
                        }
                        if it.prefix {
                            s.push('*');
                        }
                        s
                    })
                    .collect();
                let sign = if c.occur == Occur::MustNot { "-" } else { "" };
                format!("{sign}({})", items.join("|"))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn parse_table() {
        let cases = [
            ("", ""),
            ("   ", ""),
            ("hello world", "(hello) (world*)"),
            ("hello world ", "(hello) (world)"),
            ("a OR b c", "(a|b) (c*)"),
            ("apple OR banana cherry ", "(apple|banana) (cherry)"),
            ("OR apple", "(apple*)"),
            ("apple OR", "(apple)"),
            ("apple OR OR banana ", "(apple|banana)"),
            ("-windows linux ", "-(windows) (linux)"),
            ("linux -windows", "(linux) -(windows)"),
            ("- linux ", "(linux)"),
            ("\"real time\" strategy ", "(\"real time\") (strategy)"),
            ("\"unbalanced quote", "(\"unbalanced quote\")"),
            ("\"\" x ", "(x)"),
            (
                "title:git body:\"version control\" ",
                "(title:git) (body:\"version control\")",
            ),
            ("-title:\"foo bar\" baz ", "-(title:\"foo bar\") (baz)"),
            ("prog* ", "(prog*)"),
            ("*** ", ""),
            ("c++ ", "(c++)"),
            ("url: x ", "(url:) (x)"),
            ("東京駅 ", "(東京駅)"),
        ];
        for (input, want) in cases {
            assert_eq!(show(&parse(input, true)), want, "input {input:?}");
        }
    }

    #[test]
    fn clause_budget() {
        let long = "w ".repeat(100);
        assert_eq!(parse(&long, true).clauses.len(), MAX_CLAUSES);
    }
}
