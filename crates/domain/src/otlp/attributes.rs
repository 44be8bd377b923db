//! OTLP attribute values and the lookups the vocabularies need: plain keys,
//! and the flattened `prefix.N.suffix` lists OpenLLMetry and OpenInference
//! emit (OTLP attributes cannot hold lists of objects).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// An OTLP `AnyValue`.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    String(String),
    Bool(bool),
    Int(i64),
    Double(f64),
    Bytes(Vec<u8>),
    Array(Vec<AttrValue>),
    KvList(Vec<(String, AttrValue)>),
    Empty,
}

impl AttrValue {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// An integer, also from a double without a fraction or a decimal string
    /// (instrumentations disagree on the type of token counts).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            AttrValue::Int(n) => Some(*n),
            AttrValue::Double(x) if x.fract() == 0.0 && x.is_finite() && x.abs() < 9.0e15 => {
                Some(*x as i64)
            }
            AttrValue::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The value as JSON: a string that holds JSON (how SDKs without
    /// structured attributes send messages) is parsed, when `parse_strings`.
    pub fn to_json(&self, parse_strings: bool) -> Value {
        match self {
            AttrValue::String(s) if parse_strings => {
                serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()))
            }
            AttrValue::String(s) => Value::String(s.clone()),
            AttrValue::Bool(b) => Value::Bool(*b),
            AttrValue::Int(n) => Value::from(*n),
            AttrValue::Double(x) => serde_json::Number::from_f64(*x)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            AttrValue::Bytes(b) => Value::String(hex::encode(b)),
            AttrValue::Array(items) => {
                Value::Array(items.iter().map(|v| v.to_json(parse_strings)).collect())
            }
            AttrValue::KvList(pairs) => Value::Object(
                pairs
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json(parse_strings)))
                    .collect::<Map<_, _>>(),
            ),
            AttrValue::Empty => Value::Null,
        }
    }
}

/// The attributes of a span, an event or a resource, in their wire order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attributes(pub Vec<(String, AttrValue)>);

impl Attributes {
    /// The first value of `key` (OTLP forbids duplicates; the first one wins).
    pub fn get(&self, key: &str) -> Option<&AttrValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// A non-empty string value.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.get(key)
            .and_then(AttrValue::as_str)
            .filter(|s| !s.is_empty())
    }

    pub fn int(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(AttrValue::as_i64)
    }

    /// The flattened list under `prefix`: `prefix.N.rest = value` grouped by
    /// `N` in ascending order, each entry holding its `(rest, value)` pairs.
    pub fn indexed<'a>(&'a self, prefix: &str) -> Vec<Indexed<'a>> {
        group_indexed(self.0.iter().map(|(k, v)| (k.as_str(), v)), prefix)
    }
}

fn group_indexed<'a>(
    pairs: impl Iterator<Item = (&'a str, &'a AttrValue)>,
    prefix: &str,
) -> Vec<Indexed<'a>> {
    let mut groups: BTreeMap<usize, Vec<(&'a str, &'a AttrValue)>> = BTreeMap::new();
    for (key, value) in pairs {
        let Some(rest) = key.strip_prefix(prefix).and_then(|r| r.strip_prefix('.')) else {
            continue;
        };
        let (index, suffix) = rest.split_once('.').unwrap_or((rest, ""));
        if let Ok(index) = index.parse::<usize>() {
            groups.entry(index).or_default().push((suffix, value));
        }
    }
    groups.into_values().map(Indexed).collect()
}

/// One entry of a flattened list: its `(suffix, value)` pairs.
#[derive(Debug, Clone)]
pub struct Indexed<'a>(pub Vec<(&'a str, &'a AttrValue)>);

impl<'a> Indexed<'a> {
    pub fn get(&self, suffix: &str) -> Option<&'a AttrValue> {
        self.0.iter().find(|(s, _)| *s == suffix).map(|(_, v)| *v)
    }

    pub fn str(&self, suffix: &str) -> Option<&'a str> {
        self.get(suffix).and_then(AttrValue::as_str)
    }

    /// The nested list `prefix.M.rest` inside this entry.
    pub fn indexed(&self, prefix: &str) -> Vec<Indexed<'a>> {
        group_indexed(self.0.iter().copied(), prefix)
    }
}
