//! A traffic sample's `metadata`: a JSON object the client chose, kept as its
//! JSON text. It is checked once, where it enters (the ingest request's typed
//! body, or the OTLP mapping that writes it), and then only carried: storage
//! writes the text as it is and responses embed it as it is. A `Value` tree per
//! sample would be built, serialised and dropped for nothing, and OTLP samples
//! carry about a kilobyte of normalised messages each.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SampleMetadata(Box<RawValue>);

/// The top-level fields of a metadata object, borrowed from its text.
#[derive(Deserialize)]
struct Fields<'a>(#[serde(borrow)] HashMap<Cow<'a, str>, &'a RawValue>);

impl SampleMetadata {
    /// `value` (an object) as metadata.
    pub fn new<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::value::to_raw_value(value).map(Self)
    }

    /// Metadata from JSON text, checked to be JSON.
    pub fn from_json(text: String) -> Result<Self, serde_json::Error> {
        RawValue::from_string(text).map(Self)
    }

    /// The JSON text.
    pub fn as_json(&self) -> &str {
        self.0.get()
    }

    /// The whole object as a `Value`.
    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }

    /// One top-level field, parsed alone: the rest of the object is only
    /// skimmed.
    pub fn field(&self, key: &str) -> Option<Value> {
        let Fields(fields) = serde_json::from_str(self.0.get()).ok()?;
        serde_json::from_str(fields.get(key)?.get()).ok()
    }
}

/// Equal when the JSON is: key order and spacing differ between what a
/// client sent and what PostgreSQL's `jsonb` gives back.
impl PartialEq for SampleMetadata {
    fn eq(&self, other: &Self) -> bool {
        self.as_json() == other.as_json() || self.to_value() == other.to_value()
    }
}

impl fmt::Debug for SampleMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_json())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;

    #[test]
    fn fields_are_read_alone_and_equality_is_of_the_json() {
        let m = SampleMetadata::new(
            &json!({"response_format": {"type": "json_object"}, "k\"ey": [1, 2]}),
        )
        .unwrap();
        assert_eq!(
            m.field("response_format"),
            Some(json!({"type": "json_object"}))
        );
        assert_eq!(m.field("k\"ey"), Some(json!([1, 2])));
        assert_eq!(m.field("missing"), None);
        let reordered = SampleMetadata::from_json(
            r#"{"k\"ey": [1,2], "response_format": {"type":"json_object"}}"#.to_owned(),
        )
        .unwrap();
        assert_eq!(m, reordered);
        assert_ne!(m, SampleMetadata::new(&json!({"k": 1})).unwrap());
        assert!(SampleMetadata::from_json("{".to_owned()).is_err());
    }

    #[test]
    fn it_serializes_as_the_json_itself() {
        let m = SampleMetadata::new(&json!({"a": {"b": [true, null]}})).unwrap();
        let outer = serde_json::to_value(json!({"metadata": m})).unwrap();
        assert_eq!(outer, json!({"metadata": {"a": {"b": [true, null]}}}));
        let back: SampleMetadata = serde_json::from_str(m.as_json()).unwrap();
        assert_eq!(back, m);
    }
}
