//! List pages: `limit` (1–1000, default 100) and an opaque `cursor`, the
//! base64url of a tagged position, so a cursor of one list is refused by another.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::ApiError;
use crate::extract::QueryPairs;

pub(crate) const DEFAULT_LIMIT: u32 = 100;
pub(crate) const MAX_LIMIT: u32 = 1_000;

pub(crate) fn parse_limit(query: &QueryPairs) -> Result<u32, ApiError> {
    match query.get("limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(raw) => match raw.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid_field(
                "limit",
                format!("limit must be an integer from 1 to {MAX_LIMIT}"),
            )),
        },
    }
}

/// Encodes a position in the list named by `tag`.
pub(crate) fn encode_cursor(tag: &str, position: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{tag}:{position}"))
}

/// Decodes a cursor of the list named by `tag`; any other text is a 400.
pub(crate) fn decode_cursor(tag: &str, cursor: &str) -> Result<String, ApiError> {
    let bad = || ApiError::invalid_field("cursor", "cursor is not one this list returned");
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.as_bytes())
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let position = text
        .strip_prefix(tag)
        .and_then(|r| r.strip_prefix(':'))
        .ok_or_else(bad)?;
    Ok(position.to_owned())
}

/// The cursor of the query, decoded and parsed by `parse`.
pub(crate) fn cursor_position<T>(
    query: &QueryPairs,
    tag: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, ApiError> {
    match query.get("cursor") {
        None | Some("") => Ok(None),
        Some(raw) => {
            let position = decode_cursor(tag, raw)?;
            parse(&position).map(Some).ok_or_else(|| {
                ApiError::invalid_field("cursor", "cursor is not one this list returned")
            })
        }
    }
}

/// Cuts a page fetched with `limit + 1` rows to `limit` and says where the
/// next page starts (`None` on the last page).
pub(crate) fn page<T>(
    mut rows: Vec<T>,
    limit: u32,
    position_of: impl Fn(&T) -> String,
    tag: &str,
) -> (Vec<T>, Option<String>) {
    let limit = limit as usize;
    if rows.len() > limit {
        rows.truncate(limit);
        let next = rows
            .last()
            .map(|last| encode_cursor(tag, &position_of(last)));
        (rows, next)
    } else {
        (rows, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> QueryPairs {
        QueryPairs(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn cursors_round_trip_and_are_tagged() {
        let c = encode_cursor("job", "0190-abc");
        assert_eq!(decode_cursor("job", &c).unwrap(), "0190-abc");
        assert!(decode_cursor("result", &c).is_err());
        assert!(decode_cursor("job", "!!!").is_err());
        assert!(decode_cursor("job", "").is_err());
    }

    #[test]
    fn limits_are_checked() {
        assert_eq!(parse_limit(&query(&[])).unwrap(), 100);
        assert_eq!(parse_limit(&query(&[("limit", "1")])).unwrap(), 1);
        assert_eq!(parse_limit(&query(&[("limit", "1000")])).unwrap(), 1000);
        for bad in ["0", "1001", "-1", "1.5", "x", ""] {
            assert!(parse_limit(&query(&[("limit", bad)])).is_err(), "{bad}");
        }
    }

    #[test]
    fn pages_know_when_they_are_last() {
        let (rows, next) = page(vec![1, 2, 3], 2, |n| n.to_string(), "n");
        assert_eq!(rows, vec![1, 2]);
        assert_eq!(decode_cursor("n", &next.unwrap()).unwrap(), "2");
        let (rows, next) = page(vec![1, 2], 2, |n| n.to_string(), "n");
        assert_eq!(rows, vec![1, 2]);
        assert!(next.is_none());
    }

    #[test]
    fn cursor_positions_are_parsed() {
        let q = query(&[("cursor", &encode_cursor("r", "42"))]);
        assert_eq!(
            cursor_position(&q, "r", |s| s.parse::<i64>().ok()).unwrap(),
            Some(42)
        );
        let q = query(&[("cursor", &encode_cursor("r", "x"))]);
        assert!(cursor_position(&q, "r", |s| s.parse::<i64>().ok()).is_err());
    }
}
