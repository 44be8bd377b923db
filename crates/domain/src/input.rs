//! Values of request bodies that every database stores alike. PostgreSQL
//! refuses the NUL character (U+0000) in text and JSON while SQLite keeps it,
//! so no text that a client sends may contain one. Each type checks itself
//! while it is deserialized, so a deserializer that tracks paths (the API uses
//! `serde_path_to_error`) names the exact field of a bad value.

use std::fmt::{self, Write as _};

use chrono::{DateTime, Utc};
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_path_to_error::Segment;

/// Longest name (ids, models, prompts, key names, …), in characters.
pub const MAX_NAME_CHARS: usize = 256;

/// A request field that is missing or wrong: answered with 400 and `param`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{param}: {message}")]
pub struct RequestFieldError {
    pub param: String,
    pub message: String,
}

impl RequestFieldError {
    pub fn new(param: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            param: param.into(),
            message: message.into(),
        }
    }

    /// The same error for a field nested under `parent` (e.g. `samples[3]`).
    pub fn under(self, parent: &str) -> Self {
        Self {
            param: format!("{parent}.{}", self.param),
            message: self.message,
        }
    }
}

/// Longest `param` or message echoed back: a refused value may be huge.
const MAX_ECHO_CHARS: usize = 300;

/// Why a request body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Not JSON at all (syntax, empty, too deep, a lone surrogate, …).
    #[error("{0}")]
    NotJson(String),
    /// JSON of the wrong shape or with a bad value, at `param`.
    #[error(transparent)]
    Field(#[from] RequestFieldError),
}

/// Reads a request body into its typed form. Errors of shape and value name
/// the field by its path, e.g. `samples[17].model`; a missing field is named
/// itself, not its parent.
pub fn read_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyError> {
    if bytes.is_empty() {
        return Err(BodyError::NotJson(
            "the request body is empty; send a JSON object".to_owned(),
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let not_json = |e: &dyn fmt::Display| {
            BodyError::NotJson(format!(
                "the request body is not valid JSON: {}",
                echo(&e.to_string())
            ))
        };
        if e.inner().classify() != serde_json::error::Category::Data {
            return not_json(e.inner());
        }
        // A value of the wrong shape may come before a syntax error further
        // on (`[1,2` for an object): broken JSON is named as such first.
        match serde_json::from_slice::<de::IgnoredAny>(bytes) {
            Err(syntax) => not_json(&syntax),
            Ok(_) => BodyError::Field(field_error(e)),
        }
    })?;
    de.end()
        .map_err(|e| BodyError::NotJson(format!("the request body is not valid JSON: {e}")))?;
    Ok(value)
}

/// Reads a JSON value into its typed form (tests and tools).
pub fn read_value<T: DeserializeOwned>(value: Value) -> Result<T, RequestFieldError> {
    serde_path_to_error::deserialize(value).map_err(field_error)
}

fn field_error(e: serde_path_to_error::Error<serde_json::Error>) -> RequestFieldError {
    let mut param = String::new();
    for segment in e.path().iter() {
        match segment {
            Segment::Seq { index } => {
                let _ = write!(param, "[{index}]");
            }
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !param.is_empty() {
                    param.push('.');
                }
                param.push_str(key);
            }
            Segment::Unknown => {}
        }
    }
    let inner = e.into_inner();
    let mut message = inner.to_string();
    if inner.line() > 0 {
        let position = format!(" at line {} column {}", inner.line(), inner.column());
        if let Some(stripped) = message.strip_suffix(&position) {
            message = stripped.to_owned();
        }
    }
    // serde reports a missing field at its parent, and an unknown one by
    // name only: name the field itself.
    for prefix in ["missing field `", "unknown field `"] {
        if let Some(field) = message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            && !param.ends_with(field)
        {
            if !param.is_empty() {
                param.push('.');
            }
            param.push_str(field);
        }
    }
    if param.is_empty() {
        param.push_str("body");
    }
    let param = echo(&param);
    RequestFieldError {
        message: echo(&message),
        param,
    }
}

/// Text of a refused request fit to be answered: shortened, NUL escaped.
fn echo(text: &str) -> String {
    let short = match text.char_indices().nth(MAX_ECHO_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    };
    short.replace('\0', "\\u0000")
}

/// Why a text value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("must not contain the NUL character (U+0000)")]
    Nul,
    #[error("must be 1 to {MAX_NAME_CHARS} characters")]
    NameLength,
}

fn check_text(raw: &str) -> Result<(), TextError> {
    if raw.contains('\0') {
        Err(TextError::Nul)
    } else {
        Ok(())
    }
}

/// Free text of any length without NUL (inputs, outputs, criteria, URLs).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String)]
pub struct Text(String);

impl Text {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl TryFrom<String> for Text {
    type Error = TextError;
    fn try_from(raw: String) -> Result<Self, TextError> {
        check_text(&raw)?;
        Ok(Self(raw))
    }
}

impl From<Text> for String {
    fn from(value: Text) -> Self {
        value.0
    }
}

/// A name: 1 to [`MAX_NAME_CHARS`] characters without NUL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, min_length = 1, max_length = 256)]
pub struct Name(String);

impl Name {
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        Self::try_from(raw.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl TryFrom<String> for Name {
    type Error = TextError;
    fn try_from(raw: String) -> Result<Self, TextError> {
        check_text(&raw)?;
        let chars = raw.chars().count();
        if chars == 0 || chars > MAX_NAME_CHARS {
            return Err(TextError::NameLength);
        }
        Ok(Self(raw))
    }
}

impl From<Name> for String {
    fn from(value: Name) -> Self {
        value.0
    }
}

/// A JSON object whose every key and string, at any depth, is [`Text`]. It
/// is read with its own visitor (not as a `Value`) so that a bad value deep
/// inside is named by its full path, e.g. `samples[2].metadata.tags[1]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JsonObject(pub Map<String, Value>);

/// Any JSON value with [`Text`] keys and strings (the inside of a [`JsonObject`]).
struct TextJson(Value);

struct TextJsonVisitor;

impl<'de> Visitor<'de> for TextJsonVisitor {
    type Value = TextJson;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<TextJson, E> {
        Ok(TextJson(Value::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<TextJson, E> {
        Ok(TextJson(Value::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<TextJson, E> {
        Ok(TextJson(Value::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<TextJson, E> {
        // JSON has no NaN or infinity; serde_json never produces them here.
        Ok(TextJson(Value::from(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<TextJson, E> {
        check_text(v).map_err(E::custom)?;
        Ok(TextJson(Value::String(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<TextJson, E> {
        check_text(&v).map_err(E::custom)?;
        Ok(TextJson(Value::String(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<TextJson, E> {
        Ok(TextJson(Value::Null))
    }

    fn visit_none<E: de::Error>(self) -> Result<TextJson, E> {
        Ok(TextJson(Value::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<TextJson, D::Error> {
        TextJson::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TextJson, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(TextJson(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(TextJson(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TextJson, A::Error> {
        ObjectVisitor
            .visit_map(map)
            .map(|o| TextJson(Value::Object(o.0)))
    }
}

impl<'de> Deserialize<'de> for TextJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextJsonVisitor)
    }
}

struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = JsonObject;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonObject, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<Text>()? {
            let TextJson(value) = map.next_value()?;
            object.insert(key.into_string(), value);
        }
        Ok(JsonObject(object))
    }
}

impl<'de> Deserialize<'de> for JsonObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ObjectVisitor)
    }
}

impl utoipa::PartialSchema for JsonObject {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .description(Some(
                "Any JSON object (no NUL character in its keys or strings)",
            ))
            .into()
    }
}

impl utoipa::ToSchema for JsonObject {}

/// An RFC 3339 date-time such as `2026-11-24T12:00:00Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Rfc3339(pub DateTime<Utc>);

#[derive(Debug, thiserror::Error)]
#[error("must be an RFC 3339 date-time, e.g. 2026-11-24T12:00:00Z")]
pub struct NotRfc3339;

impl TryFrom<String> for Rfc3339 {
    type Error = NotRfc3339;
    fn try_from(raw: String) -> Result<Self, NotRfc3339> {
        DateTime::parse_from_rfc3339(&raw)
            .map(|d| Rfc3339(d.with_timezone(&Utc)))
            .map_err(|_| NotRfc3339)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Probe {
        #[allow(dead_code)]
        name: Name,
        #[allow(dead_code)]
        #[serde(default)]
        tags: Option<JsonObject>,
    }

    fn param_of(body: &str) -> String {
        match read_body::<Probe>(body.as_bytes()).unwrap_err() {
            BodyError::Field(e) => e.param,
            BodyError::NotJson(m) => panic!("not JSON: {m}"),
        }
    }

    #[test]
    fn body_errors_name_the_field_and_never_echo_nul_or_huge_values() {
        assert_eq!(param_of(r#"{}"#), "name");
        assert_eq!(
            param_of(r#"{"name": "n", "extra\u0000": 1}"#),
            "extra\\u0000"
        );
        assert_eq!(
            param_of(r#"{"name": "n", "tags": {"a": [1, "\u0000"]}}"#),
            "tags.a[1]"
        );
        assert_eq!(
            param_of(r#"{"name": "n", "tags": {"k\u0000": 1}}"#),
            "tags.k\\u0000"
        );
        assert_eq!(param_of(r#"[]"#), "body");
        let long = format!(r#"{{"tags": "{}", "name": "n"}}"#, "k".repeat(10_000));
        let err = read_body::<Probe>(long.as_bytes()).unwrap_err();
        assert!(err.to_string().len() < 1_000, "{err}");
        for broken in ["[1,2", "{\"name\": \"\\ud800\"}", "{} {}", "", "1e999999"] {
            assert!(
                matches!(
                    read_body::<Probe>(broken.as_bytes()),
                    Err(BodyError::NotJson(_))
                ),
                "{broken}"
            );
        }
    }

    #[test]
    fn names_are_bounded_and_text_has_no_nul() {
        assert!(Name::parse("gpt-4o").is_ok());
        assert!(Name::parse(&"é".repeat(256)).is_ok());
        assert_eq!(Name::parse(""), Err(TextError::NameLength));
        assert_eq!(Name::parse(&"x".repeat(257)), Err(TextError::NameLength));
        assert_eq!(Name::parse("a\0b"), Err(TextError::Nul));
        assert!(serde_json::from_value::<Text>(json!("")).is_ok());
        assert!(serde_json::from_value::<Text>(json!("a\u{0}")).is_err());
    }

    #[test]
    fn objects_refuse_nul_at_any_depth_and_keep_everything_else() {
        let good = json!({"a": [1, -2, 3.5, true, null, {"b": "ü"}], "c": {}});
        let parsed: JsonObject = serde_json::from_value(good.clone()).unwrap();
        assert_eq!(Value::Object(parsed.0), good);
        for bad in [
            json!({"a\u{0}": 1}),
            json!({"a": "x\u{0}"}),
            json!({"a": [{"b": ["\u{0}"]}]}),
        ] {
            assert!(serde_json::from_value::<JsonObject>(bad).is_err());
        }
        assert!(serde_json::from_value::<JsonObject>(json!([1])).is_err());
        assert!(serde_json::from_value::<JsonObject>(json!("s")).is_err());
    }
}
