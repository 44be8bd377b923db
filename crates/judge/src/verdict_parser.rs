//! Reads a judge's reply, whatever shape it comes in: a JSON object (bare,
//! inside ```json fences, or after some prose), or explicit `LABEL:` /
//! `SCORE:` / `REASONING:` lines. Never panics on any input.

use serde_json::{Map, Value};

/// What could be read from a reply, before it is checked against a judge's schema.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsedReply {
    Json(Map<String, Value>),
    /// `LABEL:` / `SCORE:` / `REASONING:` lines (keys lower-cased).
    Lines(Map<String, Value>),
}

impl ParsedReply {
    pub fn fields(&self) -> &Map<String, Value> {
        match self {
            ParsedReply::Json(map) | ParsedReply::Lines(map) => map,
        }
    }
}

/// Finds the verdict in a reply, or `None` when there is none.
pub fn parse_reply(raw: &str) -> Option<ParsedReply> {
    let trimmed = raw.trim();
    if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(trimmed) {
        return Some(ParsedReply::Json(map));
    }
    if let Some(map) = fenced_json(trimmed) {
        return Some(ParsedReply::Json(map));
    }
    if let Some(map) = embedded_json(trimmed) {
        return Some(ParsedReply::Json(map));
    }
    labelled_lines(trimmed).map(ParsedReply::Lines)
}

/// The first ``` fenced block that holds a JSON object.
fn fenced_json(text: &str) -> Option<Map<String, Value>> {
    let mut rest = text;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        // Skip the info string (`json`) up to the end of the line.
        let body_start = after.find('\n').map_or(0, |i| i + 1);
        let body = &after[body_start..];
        let end = body.find("```")?;
        if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(body[..end].trim()) {
            return Some(map);
        }
        rest = &body[end + 3..];
    }
    None
}

/// The first `{` from which a whole JSON object parses (prose around it ignored).
fn embedded_json(text: &str) -> Option<Map<String, Value>> {
    for (index, _) in text.match_indices('{').take(64) {
        let mut stream = serde_json::Deserializer::from_str(&text[index..]).into_iter::<Value>();
        if let Some(Ok(Value::Object(map))) = stream.next() {
            return Some(map);
        }
    }
    None
}

/// `LABEL: x`, `SCORE: 0.8`, `REASONING: …` lines (case-insensitive, optional
/// markdown bold). Reasoning runs to the end of the reply.
fn labelled_lines(text: &str) -> Option<Map<String, Value>> {
    let mut map = Map::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let cleaned = line
            .trim()
            .trim_start_matches(['*', '#', '-', ' '])
            .replace("**", "");
        let Some((key, value)) = cleaned.split_once(':') else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let value = value.trim();
        match key.as_str() {
            "label" | "verdict" if !map.contains_key("label") => {
                let label = value
                    .trim_matches(['"', '\'', '`', '.', ' '])
                    .to_ascii_lowercase();
                map.insert("label".into(), Value::String(label));
            }
            "score" if !map.contains_key("score") => {
                let number = value
                    .trim_matches(['"', '\'', '`', ' '])
                    .trim_end_matches('.');
                let parsed = number.parse::<f64>().ok().filter(|x| x.is_finite());
                map.insert(
                    "score".into(),
                    parsed
                        .and_then(serde_json::Number::from_f64)
                        .map_or_else(|| Value::String(number.to_owned()), Value::Number),
                );
            }
            "reasoning" if !map.contains_key("reasoning") => {
                let mut reasoning = value.to_owned();
                for more in lines.by_ref() {
                    reasoning.push('\n');
                    reasoning.push_str(more);
                }
                map.insert(
                    "reasoning".into(),
                    Value::String(reasoning.trim().to_owned()),
                );
            }
            _ => {}
        }
    }
    (map.contains_key("label") || map.contains_key("score")).then_some(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn label_of(raw: &str) -> Option<String> {
        parse_reply(raw)?
            .fields()
            .get("label")?
            .as_str()
            .map(str::to_owned)
    }

    #[test]
    fn bare_fenced_and_embedded_json() {
        assert_eq!(
            label_of(r#"{"label":"factual"}"#).as_deref(),
            Some("factual")
        );
        assert_eq!(
            label_of("Sure! Here it is:\n```json\n{\"label\": \"toxic\", \"reasoning\": \"x\"}\n```\nThanks").as_deref(),
            Some("toxic")
        );
        assert_eq!(
            label_of("My verdict {not json} is {\"label\": \"safe\"} done").as_deref(),
            Some("safe")
        );
    }

    #[test]
    fn plain_text_lines() {
        let parsed =
            parse_reply("**LABEL:** Relevant\nSCORE: 4\nREASONING: it answers\nthe question")
                .unwrap();
        assert!(matches!(parsed, ParsedReply::Lines(_)));
        let f = parsed.fields();
        assert_eq!(f["label"], "relevant");
        assert_eq!(f["score"], 4.0);
        assert_eq!(f["reasoning"], "it answers\nthe question");
    }

    #[test]
    fn nothing_readable() {
        assert_eq!(parse_reply("I cannot help with that."), None);
        assert_eq!(parse_reply(""), None);
        assert_eq!(parse_reply("[1,2,3]"), None);
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            let _ = parse_reply(&text);
        }

        #[test]
        fn json_like_text_never_panics(text in "[{}\\[\\]\":,a-z0-9` \n]{0,200}") {
            let _ = parse_reply(&text);
            let _ = parse_reply(&format!("```json\n{text}\n```"));
            let _ = parse_reply(&format!("LABEL: {text}\nSCORE: {text}"));
        }
    }
}
