//! The built-in text embedding for drift of the inputs' meaning: hashed
//! character 3-grams, so that it needs no model and is the same on every run.

use std::future::Future;
use std::pin::Pin;

/// Dimension of [`hashed_trigram_embedding`].
pub const EMBEDDING_DIM: usize = 256;
/// How flags' evidence names the built-in embedding.
pub const BUILTIN_EMBEDDING: &str = "builtin:hashed-char-3gram-256";

/// Why a provider's embeddings could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EmbeddingError(pub String);

pub type EmbedFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<Vec<f64>>, EmbeddingError>> + Send + 'a>>;

/// A configured embedding model (e.g. an OpenAI-compatible `/v1/embeddings`
/// server) for drift of the inputs' meaning. Without one, jobs use
/// [`hashed_trigram_embedding`], which needs no model.
pub trait TextEmbedder: Send + Sync {
    /// Names the embedding in flags' evidence (provider and model).
    fn name(&self) -> &str;
    /// One vector per text, in the texts' order, all of one dimension.
    fn embed<'a>(&'a self, texts: &'a [&'a str]) -> EmbedFuture<'a>;
}

/// Which embedding a job's input drift test used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddingUsed {
    pub name: String,
    /// Set when the configured provider failed and the built-in embedding
    /// was used instead: the provider's error.
    pub fallback_reason: Option<String>,
}

impl Default for EmbeddingUsed {
    fn default() -> Self {
        Self {
            name: BUILTIN_EMBEDDING.to_owned(),
            fallback_reason: None,
        }
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// An L2-normalised bag of lowercased character 3-grams (the text padded with
/// a space on each side, runs of whitespace collapsed), each hashed with FNV-1a
/// to one of [`EMBEDDING_DIM`] buckets with a ±1 sign so that collisions cancel
/// rather than pile up. An empty text embeds to the zero vector.
pub fn hashed_trigram_embedding(text: &str) -> Vec<f64> {
    let mut chars: Vec<char> = Vec::with_capacity(text.len() + 2);
    chars.push(' ');
    for c in text.chars() {
        if c.is_whitespace() {
            if chars.last() != Some(&' ') {
                chars.push(' ');
            }
        } else {
            chars.extend(c.to_lowercase());
        }
    }
    if chars.last() != Some(&' ') {
        chars.push(' ');
    }
    let mut v = vec![0.0; EMBEDDING_DIM];
    for gram in chars.windows(3) {
        let mut hash = FNV_OFFSET;
        let mut buf = [0u8; 4];
        for c in gram {
            for b in c.encode_utf8(&mut buf).bytes() {
                hash = (hash ^ u64::from(b)).wrapping_mul(FNV_PRIME);
            }
        }
        let bucket = (hash % EMBEDDING_DIM as u64) as usize;
        let sign = if (hash >> 63) == 0 { 1.0 } else { -1.0 };
        v[bucket] += sign;
    }
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm > 0.0 {
        for x in &mut v {
            *x /= norm;
        }
    }
    v
}

/// At most `max` items, evenly spaced, so that a subsample still spans the whole set.
pub fn even_subsample<T: Clone>(items: &[T], max: usize) -> Vec<T> {
    if items.len() <= max {
        return items.to_vec();
    }
    (0..max)
        .map(|i| items[i * items.len() / max].clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn unit_length_deterministic_and_case_insensitive() {
        let a = hashed_trigram_embedding("How do I reset my password?");
        assert_eq!(a.len(), EMBEDDING_DIM);
        assert!((cosine(&a, &a) - 1.0).abs() < 1e-12);
        assert_eq!(a, hashed_trigram_embedding("how do i  reset my PASSWORD?"));
        assert!(hashed_trigram_embedding("").iter().all(|x| *x == 0.0));
    }

    #[test]
    fn similar_texts_are_closer_than_unrelated_ones() {
        let a = hashed_trigram_embedding("How do I reset my password?");
        let b = hashed_trigram_embedding("How can I reset my password please?");
        let c = hashed_trigram_embedding("Quarterly revenue of the Berlin subsidiary");
        assert!(cosine(&a, &b) > cosine(&a, &c) + 0.3);
    }

    #[test]
    fn subsample_is_even_and_bounded() {
        let items: Vec<usize> = (0..10).collect();
        assert_eq!(even_subsample(&items, 5), vec![0, 2, 4, 6, 8]);
        assert_eq!(even_subsample(&items, 20), items);
    }
}
