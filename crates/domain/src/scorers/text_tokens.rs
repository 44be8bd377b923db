//! Word tokens for lexical matching, hashed as they are read so that no string
//! is allocated per token (the deterministic scorers have a tight CPU budget).

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// One word or number of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// The token as written.
    pub text: &'a str,
    /// FNV-1a of the lowercased token (typographic apostrophes made plain,
    /// thousands separators in numbers dropped).
    pub hash: u64,
    pub chars: usize,
    pub has_digit: bool,
    pub starts_upper: bool,
}

/// A hasher for keys that are already well-mixed 64-bit hashes.
#[derive(Default)]
pub struct PrehashedHasher(u64);

impl Hasher for PrehashedHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(FNV_PRIME);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub type TokenHashSet = HashSet<u64, BuildHasherDefault<PrehashedHasher>>;

fn fnv_char(mut hash: u64, c: char) -> u64 {
    let mut buf = [0u8; 4];
    for b in c.encode_utf8(&mut buf).bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(FNV_PRIME);
    }
    hash
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}')
}

/// Calls `each` for every token of `text`: runs of letters and digits, where
/// an apostrophe between letters (`don't`) and `.`/`,` between digits
/// (`3.5`, `1,000`) stay inside the token.
pub fn for_each_token<'a>(text: &'a str, mut each: impl FnMut(Token<'a>)) {
    let mut chars = text.char_indices().peekable();
    while let Some((start, first)) = chars.next() {
        if !first.is_alphanumeric() {
            continue;
        }
        let mut token = Token {
            text: "",
            hash: FNV_OFFSET,
            chars: 0,
            has_digit: false,
            starts_upper: first.is_uppercase(),
        };
        absorb(&mut token, first);
        let mut end = start + first.len_utf8();
        let mut prev = first;
        while let Some(&(i, c)) = chars.peek() {
            if c.is_alphanumeric() {
                chars.next();
                absorb(&mut token, c);
                end = i + c.len_utf8();
                prev = c;
                continue;
            }
            // A joiner counts only when the character after it continues the token.
            let mut lookahead = chars.clone();
            lookahead.next();
            let joins = match lookahead.peek() {
                Some(&(_, after)) if is_apostrophe(c) => {
                    prev.is_alphabetic() && after.is_alphabetic()
                }
                Some(&(_, after)) if c == '.' || c == ',' => {
                    prev.is_ascii_digit() && after.is_ascii_digit()
                }
                _ => false,
            };
            if !joins {
                break;
            }
            chars.next();
            if is_apostrophe(c) {
                token.hash = fnv_char(token.hash, '\'');
            } else if c == '.' {
                token.hash = fnv_char(token.hash, '.');
            }
        }
        token.text = &text[start..end];
        each(token);
    }
}

fn absorb(token: &mut Token<'_>, c: char) {
    token.has_digit |= c.is_numeric();
    token.chars += 1;
    if c.is_ascii() {
        token.hash = fnv_char(token.hash, c.to_ascii_lowercase());
    } else {
        for lower in c.to_lowercase() {
            token.hash = fnv_char(token.hash, lower);
        }
    }
}

/// Lowercase hashes of every token of the texts.
pub fn token_hashes<'a>(texts: impl IntoIterator<Item = &'a str>) -> TokenHashSet {
    let mut set = TokenHashSet::default();
    for text in texts {
        for_each_token(text, |t| {
            set.insert(t.hash);
        });
    }
    set
}

/// Common English function words, which say nothing about grounding.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "aren't",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "can't",
    "cannot",
    "could",
    "couldn't",
    "did",
    "didn't",
    "do",
    "does",
    "doesn't",
    "doing",
    "don't",
    "down",
    "during",
    "each",
    "either",
    "else",
    "etc",
    "even",
    "ever",
    "every",
    "few",
    "for",
    "from",
    "further",
    "had",
    "hadn't",
    "has",
    "hasn't",
    "have",
    "haven't",
    "having",
    "he",
    "he's",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "however",
    "i",
    "i'm",
    "i've",
    "i'd",
    "i'll",
    "if",
    "in",
    "into",
    "is",
    "isn't",
    "it",
    "it's",
    "its",
    "itself",
    "just",
    "let's",
    "may",
    "me",
    "might",
    "more",
    "most",
    "much",
    "must",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "one",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "per",
    "same",
    "shall",
    "she",
    "should",
    "shouldn't",
    "so",
    "some",
    "such",
    "than",
    "that",
    "that's",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "there's",
    "these",
    "they",
    "they're",
    "this",
    "those",
    "though",
    "through",
    "thus",
    "to",
    "too",
    "under",
    "until",
    "up",
    "upon",
    "us",
    "very",
    "via",
    "was",
    "wasn't",
    "we",
    "we're",
    "were",
    "weren't",
    "what",
    "what's",
    "when",
    "where",
    "whether",
    "which",
    "while",
    "who",
    "whom",
    "whose",
    "why",
    "will",
    "with",
    "within",
    "without",
    "won't",
    "would",
    "wouldn't",
    "yes",
    "yet",
    "you",
    "you're",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "according",
    "based",
    "answer",
    "context",
    "provided",
    "sure",
    "well",
    "like",
    "many",
    "there",
];

/// Whether a token hash is a stop word's.
pub fn is_stop_word(hash: u64) -> bool {
    static SET: OnceLock<TokenHashSet> = OnceLock::new();
    SET.get_or_init(|| token_hashes(STOP_WORDS.iter().copied()))
        .contains(&hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        for_each_token(text, |t| out.push(t.text));
        out
    }

    #[test]
    fn splits_words_and_keeps_numbers_and_contractions_whole() {
        assert_eq!(
            tokens("Revenue grew 3.5% to $1,000 in 2024; it didn't fall."),
            vec![
                "Revenue", "grew", "3.5", "to", "1,000", "in", "2024", "it", "didn't", "fall"
            ]
        );
        assert_eq!(tokens("end. Next"), vec!["end", "Next"]);
        assert_eq!(tokens("a'"), vec!["a"]);
        assert_eq!(tokens("7,"), vec!["7"]);
    }

    #[test]
    fn hashes_ignore_case_separators_and_apostrophe_style() {
        let h = |s: &str| {
            let mut out = 0;
            for_each_token(s, |t| out = t.hash);
            out
        };
        assert_eq!(h("Paris"), h("PARIS"));
        assert_eq!(h("1,000"), h("1000"));
        assert_eq!(h("don’t"), h("don't"));
        assert!(is_stop_word(h("The")));
        assert!(is_stop_word(h("doesn’t")));
        assert!(!is_stop_word(h("Paris")));
    }
}
