//! Which languages can an index stem, and by what names are they written (configuration files,
//! the index's META, ISO 639-1 codes)?

/// The stemming language of an index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Language {
    /// No stemming.
    None,
    /// Arabic.
    Arabic,
    /// Danish.
    Danish,
    /// Dutch.
    Dutch,
    /// English (the default).
    English,
    /// Finnish.
    Finnish,
    /// French.
    French,
    /// German.
    German,
    /// Greek.
    Greek,
    /// Hungarian.
    Hungarian,
    /// Italian.
    Italian,
    /// Norwegian.
    Norwegian,
    /// Portuguese.
    Portuguese,
    /// Romanian.
    Romanian,
    /// Russian.
    Russian,
    /// Spanish.
    Spanish,
    /// Swedish.
    Swedish,
    /// Tamil.
    Tamil,
    /// Turkish.
    Turkish,
}

pub(super) const LANGUAGES: &[(Language, &str)] = &[
    (Language::None, "none"),
    (Language::Arabic, "arabic"),
    (Language::Danish, "danish"),
    (Language::Dutch, "dutch"),
    (Language::English, "english"),
    (Language::Finnish, "finnish"),
    (Language::French, "french"),
    (Language::German, "german"),
    (Language::Greek, "greek"),
    (Language::Hungarian, "hungarian"),
    (Language::Italian, "italian"),
    (Language::Norwegian, "norwegian"),
    (Language::Portuguese, "portuguese"),
    (Language::Romanian, "romanian"),
    (Language::Russian, "russian"),
    (Language::Spanish, "spanish"),
    (Language::Swedish, "swedish"),
    (Language::Tamil, "tamil"),
    (Language::Turkish, "turkish"),
];

impl Language {
    /// The lower-case English name used in configuration files and the index.
    pub fn name(self) -> &'static str {
        LANGUAGES
            .iter()
            .find(|(l, _)| *l == self)
            .map(|(_, n)| *n)
            .unwrap_or("none")
    }

    /// Parses a name as written by [`Language::name`] (case-insensitive; ISO 639-1 codes too).
    pub fn from_name(name: &str) -> Option<Language> {
        let lower = name.to_ascii_lowercase();
        let by_code = match lower.as_str() {
            "ar" => Some(Language::Arabic),
            "da" => Some(Language::Danish),
            "nl" => Some(Language::Dutch),
            "en" => Some(Language::English),
            "fi" => Some(Language::Finnish),
            "fr" => Some(Language::French),
            "de" => Some(Language::German),
            "el" => Some(Language::Greek),
            "hu" => Some(Language::Hungarian),
            "it" => Some(Language::Italian),
            "no" | "nb" => Some(Language::Norwegian),
            "pt" => Some(Language::Portuguese),
            "ro" => Some(Language::Romanian),
            "ru" => Some(Language::Russian),
            "es" => Some(Language::Spanish),
            "sv" => Some(Language::Swedish),
            "ta" => Some(Language::Tamil),
            "tr" => Some(Language::Turkish),
            _ => None,
        };
        by_code.or_else(|| LANGUAGES.iter().find(|(_, n)| *n == lower).map(|(l, _)| *l))
    }

    /// Whether this build stems the language: every language with the `all-languages` feature
    /// (on by default), English only without it (the small wasm build).
    pub fn is_supported(self) -> bool {
        cfg!(feature = "all-languages") || matches!(self, Language::None | Language::English)
    }

    pub(super) fn stemmer(self) -> Option<rust_stemmers::Stemmer> {
        #[cfg(feature = "all-languages")]
        {
            self.algorithm().map(rust_stemmers::Stemmer::create)
        }
        #[cfg(not(feature = "all-languages"))]
        {
            // One constant algorithm, so the other stemmers are left out of the binary.
            (self == Language::English)
                .then(|| rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English))
        }
    }

    #[cfg(feature = "all-languages")]
    fn algorithm(self) -> Option<rust_stemmers::Algorithm> {
        use rust_stemmers::Algorithm as A;
        Some(match self {
            Language::None => return None,
            Language::Arabic => A::Arabic,
            Language::Danish => A::Danish,
            Language::Dutch => A::Dutch,
            Language::English => A::English,
            Language::Finnish => A::Finnish,
            Language::French => A::French,
            Language::German => A::German,
            Language::Greek => A::Greek,
            Language::Hungarian => A::Hungarian,
            Language::Italian => A::Italian,
            Language::Norwegian => A::Norwegian,
            Language::Portuguese => A::Portuguese,
            Language::Romanian => A::Romanian,
            Language::Russian => A::Russian,
            Language::Spanish => A::Spanish,
            Language::Swedish => A::Swedish,
            Language::Tamil => A::Tamil,
            Language::Turkish => A::Turkish,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_names_round_trip() {
        for (l, n) in LANGUAGES {
            assert_eq!(Language::from_name(n), Some(*l));
            assert_eq!(l.name(), *n);
        }
        assert_eq!(Language::from_name("EN"), Some(Language::English));
        assert_eq!(Language::from_name("klingon"), None);
    }
}
