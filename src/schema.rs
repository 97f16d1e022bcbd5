//! Which fields does a document have, and what is done with each?

use crate::error::{number, Error, Quoted, Result};

/// Most indexed fields a schema may have (a posting records its fields as a bit mask).
pub const MAX_INDEXED_FIELDS: usize = 16;

/// Most fields a schema may have.
pub const MAX_FIELDS: usize = 64;

/// BM25 `b` of the default schema's `body`: a page's length says less about how much of it is
/// about a word than a title's does (a chapter page that lists its sections' names is short,
/// the section that documents one of them long). Measured on known-item sets (issue #12).
pub const BODY_B: f32 = 0.4;

/// How one field is treated.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldOptions {
    /// Its name in the input documents and in `field:term` queries.
    pub name: String,
    /// BM25F weight (ignored unless indexed).
    pub weight: f32,
    /// BM25 length normalization of this field, within 0 … 1 (format 9); `None`: the index's
    /// `b`. Long text fields do better with less (the default schema's `body`: 0.4, `BODY_B`).
    pub b: Option<f32>,
    /// Analyzed into the term dictionary.
    pub indexed: bool,
    /// Kept in the document store and returned with hits.
    pub stored: bool,
    /// Values usable as filters and facets (reserved for the facets issue; recorded now).
    pub facet: bool,
    /// Values usable for sorting (reserved for the sorting issue; recorded now).
    pub sortable: bool,
}

impl FieldOptions {
    fn new(name: &str, weight: f32, indexed: bool, stored: bool) -> Self {
        FieldOptions {
            name: name.to_string(),
            weight,
            b: None,
            indexed,
            stored,
            facet: false,
            sortable: false,
        }
    }

    pub(crate) fn flags(&self) -> u8 {
        (self.indexed as u8)
            | (self.stored as u8) << 1
            | (self.facet as u8) << 2
            | (self.sortable as u8) << 3
            | (self.b.is_some() as u8) << 4
    }

    pub(crate) fn from_flags(name: String, weight: f32, flags: u8) -> Self {
        FieldOptions {
            name,
            weight,
            b: None,
            indexed: flags & 1 != 0,
            stored: flags & 2 != 0,
            facet: flags & 4 != 0,
            sortable: flags & 8 != 0,
        }
    }
}

/// The fields of an index, in a fixed order (their position is their id).
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    fields: Vec<FieldOptions>,
}

impl Default for Schema {
    /// `id` (stored), `title` (indexed ×4, stored), `body` (indexed, stored, `b` 0.4 (`BODY_B`);
    /// `text` is read into it too), `url` (stored), `tags` (indexed ×0.5, stored, facet).
    fn default() -> Self {
        let mut tags = FieldOptions::new("tags", 0.5, true, true);
        tags.facet = true;
        let mut body = FieldOptions::new("body", 1.0, true, true);
        body.b = Some(BODY_B);
        Schema {
            fields: vec![
                FieldOptions::new("id", 1.0, false, true),
                FieldOptions::new("title", 4.0, true, true),
                body,
                FieldOptions::new("url", 1.0, false, true),
                tags,
            ],
        }
    }
}

impl Schema {
    /// A schema of these fields. It must have a stored `id` field; names must be unique.
    pub fn new(fields: Vec<FieldOptions>) -> Result<Self> {
        let bad = |m: String| Err(Error::InvalidConfig { message: m });
        if fields.len() > MAX_FIELDS {
            return bad(format!(
                "{} fields; at most {MAX_FIELDS} are allowed",
                fields.len()
            ));
        }
        let indexed = fields.iter().filter(|f| f.indexed).count();
        if indexed == 0 || indexed > MAX_INDEXED_FIELDS {
            return bad(format!(
                "{indexed} indexed fields; between 1 and {MAX_INDEXED_FIELDS} are allowed"
            ));
        }
        for (i, f) in fields.iter().enumerate() {
            if f.name.is_empty()
                || !f
                    .name
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
            {
                return bad(format!(
                    "field name {}: use letters, digits, '_' or '-'",
                    Quoted(&f.name)
                ));
            }
            if fields[..i].iter().any(|g| g.name == f.name) {
                return bad(format!("field {} is declared twice", Quoted(&f.name)));
            }
            if !(f.weight.is_finite() && f.weight >= 0.0) {
                return bad(format!(
                    "field {} has weight {}; use a finite number ≥ 0",
                    Quoted(&f.name),
                    number(f.weight as f64)
                ));
            }
            if let Some(b) = f.b.filter(|b| !(0.0..=1.0).contains(b)) {
                return bad(format!(
                    "field {} has b {}; use a number within 0..=1",
                    Quoted(&f.name),
                    number(b as f64)
                ));
            }
        }
        match fields.iter().find(|f| f.name == "id") {
            Some(f) if f.stored => {}
            _ => return bad("the schema needs a stored field named \"id\"".into()),
        }
        Ok(Schema { fields })
    }

    /// All fields.
    pub fn fields(&self) -> &[FieldOptions] {
        &self.fields
    }

    /// The names of the fields `keep` accepts, in schema order.
    pub fn names_where(&self, keep: impl Fn(&FieldOptions) -> bool) -> Vec<String> {
        let kept = self.fields.iter().filter(|f| keep(f));
        kept.map(|f| f.name.clone()).collect()
    }

    /// The id of the field named `name`.
    pub fn field(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// Ids of the stored `id`, `title` and `url` fields (`None` where the schema has no such
    /// stored field): what the hit-display store holds (format 2).
    pub fn display_fields(&self) -> [Option<usize>; 3] {
        ["id", "title", "url"].map(|name| self.field(name).filter(|&f| self.fields[f].stored))
    }

    /// Ids of the stored fields the document store holds in format 2: the stored fields the
    /// hit-display store does not.
    pub fn store_only_fields(&self) -> Vec<usize> {
        let display = self.display_fields();
        self.stored()
            .into_iter()
            .filter(|f| !display.contains(&Some(*f)))
            .collect()
    }

    /// Ids of the indexed fields, in order; a field's place in this list is its bit in the
    /// posting masks.
    pub fn indexed(&self) -> Vec<usize> {
        (0..self.fields.len())
            .filter(|&i| self.fields[i].indexed)
            .collect()
    }

    /// Ids of the stored fields, in order.
    pub fn stored(&self) -> Vec<usize> {
        (0..self.fields.len())
            .filter(|&i| self.fields[i].stored)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_validation_table() {
        let ok = Schema::default().fields().to_vec();
        assert!(Schema::new(ok.clone()).is_ok());
        let mut dup = ok.clone();
        dup.push(dup[1].clone());
        let mut no_id = ok.clone();
        no_id.remove(0);
        let mut bad_weight = ok.clone();
        bad_weight[1].weight = f32::NAN;
        let mut bad_b = ok.clone();
        bad_b[2].b = Some(1.5);
        let mut nan_b = ok.clone();
        nan_b[2].b = Some(f32::NAN);
        let mut bad_name = ok.clone();
        bad_name[2].name = "a b".into();
        let mut none_indexed = ok.clone();
        for f in &mut none_indexed {
            f.indexed = false;
        }
        for (fields, needle) in [
            (dup, "twice"),
            (no_id, "\"id\""),
            (bad_weight, "weight"),
            (bad_b, "has b"),
            (nan_b, "has b"),
            (bad_name, "field name"),
            (none_indexed, "indexed fields"),
        ] {
            let e = Schema::new(fields).unwrap_err().to_string();
            assert!(e.contains(needle), "{e} lacks {needle}");
        }
    }

    #[test]
    fn flags_round_trip() {
        for f in Schema::default().fields() {
            let mut read = FieldOptions::from_flags(f.name.clone(), f.weight, f.flags());
            // Bit 4 says the field's own `b` follows the flags (format 9).
            assert_eq!(f.flags() & 16 != 0, f.b.is_some(), "{}", f.name);
            read.b = f.b;
            assert_eq!(&read, f);
        }
    }
}
