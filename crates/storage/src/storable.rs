//! JSON that both databases store alike. PostgreSQL refuses the NUL character
//! (U+0000) in `jsonb` and `text`, SQLite keeps it; judge replies (reasoning,
//! raw unparsable replies, provider error bodies) come from outside and may
//! hold one. Such characters are written as the six visible characters
//! `\u0000`, on both databases, so one odd reply can never fail the write of
//! a whole batch of results and the API shows the same text whatever the
//! database.

use serde::Serialize;
use serde_json::Value;

use crate::error::StorageError;

/// What a NUL character becomes in stored text.
pub const NUL_ESCAPE: &str = "\\u0000";

/// `value` as JSON text with every NUL in its strings and keys escaped.
pub(crate) fn storable_json<T: Serialize + ?Sized>(value: &T) -> Result<String, StorageError> {
    let text = serde_json::to_string(value)
        .map_err(|e| StorageError::Corrupt(format!("cannot encode JSON: {e}")))?;
    // serde_json writes NUL as `\u0000`; without one (the usual case) the
    // text is already storable. A false hit (an escaped backslash followed by
    // `u0000`) only costs the slower path below, which changes nothing then.
    if !text.contains(NUL_ESCAPE) {
        return Ok(text);
    }
    let mut tree = serde_json::from_str::<Value>(&text)
        .map_err(|e| StorageError::Corrupt(format!("cannot re-read JSON: {e}")))?;
    escape_nul(&mut tree);
    serde_json::to_string(&tree)
        .map_err(|e| StorageError::Corrupt(format!("cannot encode JSON: {e}")))
}

fn escape_text(text: &str) -> String {
    text.replace('\0', NUL_ESCAPE)
}

fn escape_nul(value: &mut Value) {
    match value {
        Value::String(s) if s.contains('\0') => *s = escape_text(s),
        Value::Array(items) => items.iter_mut().for_each(escape_nul),
        Value::Object(map) => {
            if map.keys().any(|k| k.contains('\0')) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| (escape_text(&k), v))
                    .collect();
            }
            map.values_mut().for_each(escape_nul);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nul_is_escaped_at_any_depth_and_nothing_else_changes() {
        let v = json!({"a\u{0}": ["x\u{0}y", {"r": "\u{0}"}], "n": 1.5, "ok": "\\u0000 as text"});
        let stored: Value = serde_json::from_str(&storable_json(&v).unwrap()).unwrap();
        assert_eq!(
            stored,
            json!({"a\\u0000": ["x\\u0000y", {"r": "\\u0000"}], "n": 1.5, "ok": "\\u0000 as text"})
        );
        let plain = json!({"reasoning": "fine", "score": 0.25});
        assert_eq!(storable_json(&plain).unwrap(), plain.to_string());
    }
}
