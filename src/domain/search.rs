//! Fuzzy search rules: how names and customer IDs are folded into search terms, and which
//! words a query word matches.
//!
//! Folding transliterates to ASCII (`José` → `jose`, `Łukasz` → `lukasz`, `Мария` →
//! `mariia`), lower-cases, drops apostrophes and turns every other non-alphanumeric
//! character into a word break. A customer is indexed under each word of the name and
//! each ending of a word of two characters or more, so "contains" is a prefix lookup. A
//! query word of four characters or more also matches whole words one edit away (a letter
//! added, dropped, changed, or two neighbours swapped). Each pair of whole words of the
//! name is indexed too, both ways round (`maria garcia`, `garcia maria`): two common words
//! are then found together without reading either word's many customers.

use std::collections::BTreeSet;

/// Bump when the folding, the terms or the search text change: rows indexed by an older
/// version are re-indexed in the background.
pub const SEARCH_VERSION: i32 = 3;

/// The oldest version whose search terms are today's: rows indexed since keep their terms
/// when re-indexed (version 2 added the search text alone). Raise it to
/// [`SEARCH_VERSION`] when the terms change, and the whole index is rebuilt.
pub const TERMS_VERSION: i32 = 1;

/// The oldest version whose rows hold their word pairs: older rows get them added when
/// re-indexed, and until none is left, searches do not rely on pairs.
pub const PAIRS_VERSION: i32 = 3;

/// Name words paired at most (the pairs grow as the square of the words); a longer name
/// is indexed under [`MANY_WORDS`] as well, so a search by pairs still finds it.
const PAIRED_WORDS: usize = 8;

/// The pair term of every name longer than [`PAIRED_WORDS`] words (never a folded word).
pub const MANY_WORDS: &str = "~";

/// Shortest query word that tolerates a typo (shorter words match too much).
pub const MIN_TYPO_LEN: usize = 4;

/// Shortest stored word ending.
const MIN_PART_LEN: usize = 2;

/// Longest word that is indexed (longer input is cut, bounding the rows per customer).
const MAX_WORD_LEN: usize = 32;

/// What a search term stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TermKind {
    /// A whole word of the name or nickname.
    NameWord = 0,
    /// An ending of a word of the name or nickname.
    NamePart = 1,
    /// The whole customer ID.
    IdWord = 2,
    /// An ending of the customer ID.
    IdPart = 3,
    /// Two whole words of the name or nickname, in either order, a space between.
    NamePair = 4,
}

impl TermKind {
    /// The stored number.
    pub fn code(self) -> i16 {
        self as i16
    }

    /// The kinds "contains" looks in, and the kind "one typo" looks in, for a field.
    pub fn for_field(id: bool) -> (TermKind, TermKind) {
        if id {
            (TermKind::IdWord, TermKind::IdPart)
        } else {
            (TermKind::NameWord, TermKind::NamePart)
        }
    }
}

/// Folds text for search and sort: lower-case ASCII words separated by single spaces.
pub fn fold(text: &str) -> String {
    let ascii = deunicode::deunicode(text).to_ascii_lowercase();
    let mut folded = String::with_capacity(ascii.len());
    let mut gap = false;
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            if gap && !folded.is_empty() {
                folded.push(' ');
            }
            gap = false;
            folded.push(c);
        } else if c != '\'' && c != '`' {
            gap = true;
        }
    }
    folded
}

/// The words of folded text, each cut to the indexed length.
pub fn words(folded: &str) -> impl Iterator<Item = &str> {
    folded.split(' ').filter(|w| !w.is_empty()).map(|w| {
        let end = w.len().min(MAX_WORD_LEN);
        &w[..end]
    })
}

fn add_word(terms: &mut BTreeSet<(i16, String)>, word: &str, (whole, part): (TermKind, TermKind)) {
    terms.insert((whole.code(), word.to_owned()));
    for start in 1..word.len() {
        if word.len() - start >= MIN_PART_LEN {
            terms.insert((part.code(), word[start..].to_owned()));
        }
    }
}

/// The pairs of whole words (see [`TermKind::NamePair`]).
fn add_pairs(terms: &mut BTreeSet<(i16, String)>, words: &[String]) {
    let paired = &words[..words.len().min(PAIRED_WORDS)];
    for (i, first) in paired.iter().enumerate() {
        for (j, second) in paired.iter().enumerate() {
            if i != j {
                terms.insert((TermKind::NamePair.code(), format!("{first} {second}")));
            }
        }
    }
    if words.len() > PAIRED_WORDS {
        terms.insert((TermKind::NamePair.code(), MANY_WORDS.to_owned()));
    }
}

/// Every term a customer is found under, from their name, nickname and customer ID.
pub fn terms(
    name: Option<&str>,
    nickname: Option<&str>,
    public_id: &str,
) -> BTreeSet<(i16, String)> {
    let mut terms = BTreeSet::new();
    let mut name_words = Vec::new();
    for text in [name, nickname].into_iter().flatten() {
        let folded = fold(text);
        for word in words(&folded) {
            add_word(&mut terms, word, TermKind::for_field(false));
            name_words.push(word.to_owned());
        }
    }
    add_pairs(&mut terms, &name_words);
    for word in words(&fold(public_id)) {
        add_word(&mut terms, word, TermKind::for_field(true));
    }
    terms
}

/// The folded words of the name and nickname, each between spaces (`" maria juric "`,
/// empty without either): a query word is contained in a word of the name when the text
/// is `LIKE '%word%'` (words hold letters and digits only), and is a whole word when it is
/// `LIKE '% word %'`.
pub fn search_text(name: Option<&str>, nickname: Option<&str>) -> String {
    let mut text = String::new();
    for field in [name, nickname].into_iter().flatten() {
        for word in words(&fold(field)) {
            text.push(' ');
            text.push_str(word);
        }
    }
    if !text.is_empty() {
        text.push(' ');
    }
    text
}

/// Letters tried when looking for a typo: the alphabet, the digits and the word's own.
fn alphabet(word: &str) -> BTreeSet<char> {
    ('a'..='z').chain('0'..='9').chain(word.chars()).collect()
}

/// Every word one edit away from `word` (itself excluded): one character dropped, added or
/// changed, or two neighbours swapped.
pub fn one_edit_variants(word: &str) -> BTreeSet<String> {
    let chars: Vec<char> = word.chars().collect();
    let letters = alphabet(word);
    let mut variants = BTreeSet::new();
    for i in 0..chars.len() {
        let mut dropped = chars.clone();
        dropped.remove(i);
        variants.insert(dropped.iter().collect());
        for &c in &letters {
            let mut changed = chars.clone();
            changed[i] = c;
            variants.insert(changed.iter().collect());
        }
        if i + 1 < chars.len() {
            let mut swapped = chars.clone();
            swapped.swap(i, i + 1);
            variants.insert(swapped.iter().collect());
        }
    }
    for i in 0..=chars.len() {
        for &c in &letters {
            let mut added = chars.clone();
            added.insert(i, c);
            variants.insert(added.iter().collect());
        }
    }
    variants.remove(word);
    variants
}

/// The keys a name word is filed under for typos: itself and each way of dropping one of
/// its characters. Two words one edit apart always share one (a dropped or added
/// character: the shorter word itself; a changed one: both without it; two neighbours
/// swapped: both without the one that moved), so a word's typos are among the words
/// filed under its own keys.
pub fn typo_keys(word: &str) -> BTreeSet<String> {
    let chars: Vec<char> = word.chars().collect();
    let mut keys = BTreeSet::from([word.to_owned()]);
    if chars.len() > 1 {
        for i in 0..chars.len() {
            let mut dropped = chars.clone();
            dropped.remove(i);
            keys.insert(dropped.into_iter().collect());
        }
    }
    keys
}

/// Whether two folded words are one edit apart, as [`one_edit_variants`] counts edits.
pub fn one_edit_apart(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    match long.len() - short.len() {
        0 => {
            let differ: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
            match differ.as_slice() {
                [_] => true,
                [i, j] => *j == i + 1 && a[*i] == b[*j] && a[*j] == b[*i],
                _ => false,
            }
        }
        1 => {
            let first = (0..short.len())
                .find(|&i| short[i] != long[i])
                .unwrap_or(short.len());
            short[first..] == long[first + 1..]
        }
        _ => false,
    }
}

/// A search as typed, folded into words.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct FuzzyQuery {
    /// The whole query folded (an exact match equals it).
    pub folded: String,
    /// Its words.
    pub words: Vec<String>,
}

impl FuzzyQuery {
    /// Folds a query; `None` when nothing searchable is left.
    pub fn parse(text: &str) -> Option<Self> {
        let folded = fold(text);
        let words: Vec<String> = words(&folded).map(str::to_owned).collect();
        (!words.is_empty()).then_some(Self { folded, words })
    }

    /// Whether a query word of the name is an initial: a single letter or digit, found only
    /// at the start of a name's word (`maria g` finds Maria García, not Maria Rodríguez,
    /// whose "g" stands inside a word). A letter inside a word tells nothing about a name:
    /// nearly every name holds one.
    pub fn is_initial(word: &str) -> bool {
        word.len() == 1
    }

    /// For an initial, how many of a name's words must start with it: one for each word of
    /// the search starting with it, the initial included. `maria m` needs two — Maria
    /// Mora, not every Maria: the word holding "maria" does not stand for the initial too —
    /// and `m garcia` one.
    pub fn initial_needs(&self, initial: &str) -> usize {
        self.words.iter().filter(|w| w.starts_with(initial)).count()
    }

    /// Whether a query word is long enough to match with a typo.
    pub fn tolerates_typo(word: &str) -> bool {
        word.len() >= MIN_TYPO_LEN
    }

    /// The words a query word matches with one typo, if it is long enough to tolerate one.
    pub fn typo_variants(word: &str) -> Vec<String> {
        if !Self::tolerates_typo(word) {
            return Vec::new();
        }
        one_edit_variants(word).into_iter().collect()
    }
}

/// Whether two folded names may be one person's by the search's rules: the same words, each
/// word of one matching the other's in order with at most one typo, or every word of the
/// shorter (two at least) among the longer's ("Ana Kovač" and "Ana Marija Kovač").
pub fn names_alike(one: &str, other: &str) -> bool {
    let a: Vec<&str> = words(one).collect();
    let b: Vec<&str> = words(other).collect();
    if a.is_empty() || b.is_empty() {
        return false;
    }
    let near = |x: &str, y: &str| x == y || FuzzyQuery::typo_variants(x).iter().any(|v| v == y);
    if a.len() == b.len() {
        return a.iter().zip(&b).all(|(x, y)| near(x, y));
    }
    let (short, long) = if a.len() < b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    short.len() >= 2 && short.iter().all(|w| long.contains(w))
}

/// Whether a piece of an e-mail or phone can be looked up in the trigram index: it holds
/// three characters in a row that are not LIKE wildcards. Shorter pieces are tested on
/// every customer instead.
pub fn has_trigram(piece: &str) -> bool {
    piece.split(['%', '_']).any(|run| run.chars().count() >= 3)
}

/// The exclusive upper bound of the terms starting with `prefix` (terms are ASCII).
pub fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{7f}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_initial_needs_a_word_for_each_search_word_starting_with_it() {
        let needs = |query: &str, initial: &str| {
            FuzzyQuery::parse(query)
                .expect("words")
                .initial_needs(initial)
        };
        assert!(FuzzyQuery::is_initial("m") && !FuzzyQuery::is_initial("ma"));
        assert_eq!(needs("maria m", "m"), 2);
        assert_eq!(needs("m garcia", "m"), 1);
        assert_eq!(needs("M. María Mora", "m"), 3);
        assert_eq!(needs("aria m", "m"), 1, "within a word is not at its start");
    }

    #[test]
    fn a_piece_has_a_trigram_when_three_characters_stand_between_wildcards() {
        for piece in ["abc", "ab%cde", "čćž", "385 9"] {
            assert!(has_trigram(piece), "{piece}");
        }
        for piece in ["", "ab", "a_bc_d", "ab%cd", "%%%"] {
            assert!(!has_trigram(piece), "{piece}");
        }
    }

    #[test]
    fn names_are_alike_when_folded_equal_one_typo_apart_or_one_within_the_other() {
        assert!(names_alike(&fold("Ivan Horvat"), &fold("IVAN  horvat")));
        assert!(names_alike(&fold("Ivan Horvat"), &fold("Ivan Horvta")));
        assert!(names_alike(&fold("Ana Kovač"), &fold("Ana Marija Kovac")));
        assert!(
            !names_alike(&fold("Ana"), &fold("Ana Kovač")),
            "one word is too little"
        );
        assert!(!names_alike(&fold("Ivan Horvat"), &fold("Ivan Babić")));
        assert!(
            !names_alike(&fold("Horvat Ivan"), &fold("Ivan Horvat")),
            "in order"
        );
        assert!(!names_alike("", "ivan"));
    }

    #[test]
    fn folding_drops_case_accents_and_punctuation() {
        assert_eq!(fold("  José  O'Brien-Smith "), "jose obrien smith");
        assert_eq!(fold("ŁUKASZ Żółć"), "lukasz zolc");
        assert_eq!(fold("Мария"), "mariia");
        assert_eq!(fold("!!!"), "");
    }

    #[test]
    fn terms_hold_words_and_their_endings() {
        let terms = terms(Some("John Smith"), None, "C0000042");
        let has = |kind: TermKind, term: &str| terms.contains(&(kind.code(), term.to_owned()));
        assert!(has(TermKind::NameWord, "john"));
        assert!(has(TermKind::NamePart, "ohn"));
        assert!(has(TermKind::NamePart, "hn"));
        assert!(!has(TermKind::NamePart, "n"));
        assert!(has(TermKind::NameWord, "smith"));
        assert!(has(TermKind::IdWord, "c0000042"));
        assert!(has(TermKind::IdPart, "0042"));
        assert!(has(TermKind::NamePair, "john smith"));
        assert!(has(TermKind::NamePair, "smith john"));
    }

    #[test]
    fn pairs_join_name_and_nickname_words_and_stop_at_a_bound() {
        let pairs = |name: &str, nickname: Option<&str>| -> Vec<String> {
            terms(Some(name), nickname, "C1")
                .into_iter()
                .filter(|(kind, _)| *kind == TermKind::NamePair.code())
                .map(|(_, term)| term)
                .collect()
        };
        assert_eq!(
            pairs("Ana Kovač", Some("Anica")),
            [
                "ana anica",
                "ana kovac",
                "anica ana",
                "anica kovac",
                "kovac ana",
                "kovac anica"
            ]
        );
        assert!(pairs("Cher", None).is_empty());
        assert_eq!(pairs("Maria Maria", None), ["maria maria"]);
        let long = pairs("a b c d e f g h i j", None);
        assert_eq!(long.len(), PAIRED_WORDS * (PAIRED_WORDS - 1) + 1);
        assert!(long.contains(&MANY_WORDS.to_owned()));
        assert!(!long.contains(&"a i".to_owned()));
    }

    #[test]
    fn search_text_holds_the_name_and_nickname_words_between_spaces() {
        assert_eq!(
            search_text(Some("María  Jurić"), Some("Mari")),
            " maria juric mari "
        );
        assert_eq!(search_text(None, Some("Bubba")), " bubba ");
        assert_eq!(search_text(None, None), "");
        assert_eq!(search_text(Some("!!!"), None), "");
    }

    #[test]
    fn one_edit_covers_swaps_drops_additions_and_changes() {
        let variants = one_edit_variants("jonh");
        for near in ["john", "jon", "jonhs", "jonn", "onh"] {
            assert!(variants.contains(near), "{near}");
        }
        assert!(!variants.contains("jonh"));
        assert!(!variants.contains("jhon"), "two edits away");
        assert!(FuzzyQuery::typo_variants("tom").is_empty());
    }

    #[test]
    fn queries_fold_like_names() {
        let query = FuzzyQuery::parse("Jonh  SMTIH").expect("words");
        assert_eq!(query.folded, "jonh smtih");
        assert_eq!(query.words, vec!["jonh", "smtih"]);
        assert!(FuzzyQuery::parse(" - ").is_none());
    }

    #[test]
    fn words_one_edit_apart_share_a_typo_key_and_are_told_apart_from_others() {
        let words = ["maria", "garcia", "jon", "ab", "smith", "anna"];
        for word in words {
            for variant in one_edit_variants(word) {
                assert!(one_edit_apart(word, &variant), "{word} {variant}");
                assert!(one_edit_apart(&variant, word), "{variant} {word}");
                assert!(
                    typo_keys(word)
                        .intersection(&typo_keys(&variant))
                        .next()
                        .is_some(),
                    "{word} {variant}"
                );
            }
            for other in words {
                let near = one_edit_variants(word).contains(other);
                assert_eq!(one_edit_apart(word, other), near, "{word} {other}");
            }
        }
        for (a, b) in [
            ("maria", "mraai"),
            ("maria", "marai"),
            ("garcia", "gracia"),
            ("abc", "bcd"),
        ] {
            assert_eq!(
                one_edit_apart(a, b),
                one_edit_variants(a).contains(b),
                "{a} {b}"
            );
        }
        // Every word two edits from "mara" is told apart from its one-edit words.
        let near = one_edit_variants("mara");
        for variant in &near {
            for further in one_edit_variants(variant) {
                assert_eq!(
                    one_edit_apart("mara", &further),
                    near.contains(&further),
                    "{further}"
                );
            }
        }
        assert!(!one_edit_apart("maria", "maria"));
        assert_eq!(typo_keys("abc").len(), 4);
    }
}
