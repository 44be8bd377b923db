//! The conversation of an LLM span in each vocabulary, normalised to
//! [`ChatMessage`]s. Every reader answers `None` when its vocabulary is
//! absent, so the mapping can try them in the documented lookup order.

use serde::Serialize;
use serde_json::Value;

use super::attributes::{AttrValue, Attributes, Indexed};
use super::{Span, SpanEvent};

/// One message of a conversation, whatever vocabulary it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatMessage {
    pub role: String,
    /// The text parts, joined by newlines.
    pub content: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolCall {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    pub arguments: Value,
}

impl ChatMessage {
    fn new(role: &str, content: String) -> Self {
        Self {
            role: role.to_owned(),
            content,
            tool_calls: Vec::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.content.is_empty() && self.tool_calls.is_empty()
    }

    /// The text of the message, or its tool calls as `name(arguments)` lines
    /// when it has no text (an answer that only calls tools).
    pub fn text(&self) -> String {
        if !self.content.is_empty() || self.tool_calls.is_empty() {
            return self.content.clone();
        }
        self.tool_calls
            .iter()
            .map(|c| format!("{}({})", c.name, compact(&c.arguments)))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn compact(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Which vocabulary a span's messages were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Vocabulary {
    /// `gen_ai.input.messages` / `gen_ai.output.messages` (GenAI conventions ≥ 1.37).
    GenAiMessages,
    /// OpenLLMetry's flattened `gen_ai.prompt.N.*` / `gen_ai.completion.N.*`.
    GenAiFlattened,
    /// The deprecated GenAI span events (`gen_ai.user.message`, `gen_ai.choice`, …).
    GenAiEvents,
    /// OpenInference's `llm.input_messages.N.message.*`.
    OpenInferenceMessages,
    /// OpenInference's `input.value` / `output.value`.
    OpenInferenceValues,
}

/// A span's conversation: what it sent and what came back.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Conversation {
    pub system: Vec<ChatMessage>,
    pub input: Vec<ChatMessage>,
    pub output: Vec<ChatMessage>,
}

// ---- GenAI conventions: JSON messages with typed parts ----------------------

/// A message list attribute: a JSON string (what SDKs without structured
/// attributes send) or a structured `AnyValue` array.
fn json_attribute(attrs: &Attributes, key: &str) -> Option<Value> {
    attrs.get(key).map(|v| v.to_json(true))
}

fn text_of_parts(parts: &[Value]) -> (String, Vec<ToolCall>) {
    let mut texts = Vec::new();
    let mut calls = Vec::new();
    for part in parts {
        let kind = part.get("type").and_then(Value::as_str).unwrap_or("text");
        match kind {
            "text" => {
                if let Some(t) = part
                    .get("content")
                    .or_else(|| part.get("text"))
                    .and_then(Value::as_str)
                {
                    texts.push(t.to_owned());
                }
            }
            "tool_call" => calls.push(ToolCall {
                id: part.get("id").and_then(Value::as_str).map(str::to_owned),
                name: part
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                arguments: part.get("arguments").cloned().unwrap_or(Value::Null),
            }),
            "tool_call_response" => {
                if let Some(r) = part.get("response").or_else(|| part.get("result")) {
                    texts.push(compact(r));
                }
            }
            // Media, reasoning and unknown parts are kept in metadata only.
            _ => {}
        }
    }
    (texts.join("\n"), calls)
}

fn genai_message(value: &Value, default_role: &str) -> Option<ChatMessage> {
    let role = value
        .get("role")
        .and_then(Value::as_str)
        .unwrap_or(default_role);
    let (content, tool_calls) = match value.get("parts") {
        Some(Value::Array(parts)) => text_of_parts(parts),
        _ => match value.get("content") {
            Some(Value::String(s)) => (s.clone(), Vec::new()),
            Some(Value::Array(parts)) => text_of_parts(parts),
            _ => return None,
        },
    };
    let message = ChatMessage {
        role: role.to_owned(),
        content,
        tool_calls,
    };
    (!message.is_empty()).then_some(message)
}

fn genai_messages(value: &Value, default_role: &str) -> Vec<ChatMessage> {
    match value {
        Value::Array(items) => items
            .iter()
            .filter_map(|m| genai_message(m, default_role))
            .collect(),
        Value::String(s) if !s.is_empty() => vec![ChatMessage::new(default_role, s.clone())],
        _ => Vec::new(),
    }
}

fn system_instructions(attrs: &Attributes) -> Vec<ChatMessage> {
    match json_attribute(attrs, "gen_ai.system_instructions") {
        Some(Value::Array(parts)) => {
            let (content, _) = text_of_parts(&parts);
            if content.is_empty() {
                Vec::new()
            } else {
                vec![ChatMessage::new("system", content)]
            }
        }
        Some(Value::String(s)) if !s.is_empty() => vec![ChatMessage::new("system", s)],
        _ => Vec::new(),
    }
}

pub(super) fn from_genai_messages(span: &Span) -> Option<Conversation> {
    let input = json_attribute(&span.attributes, "gen_ai.input.messages")?;
    let output = json_attribute(&span.attributes, "gen_ai.output.messages");
    Some(Conversation {
        system: system_instructions(&span.attributes),
        input: genai_messages(&input, "user"),
        output: output
            .map(|o| genai_messages(&o, "assistant"))
            .unwrap_or_default(),
    })
}

// ---- OpenLLMetry: gen_ai.prompt.N.* / gen_ai.completion.N.* ----------------

/// Flattened content may itself be a JSON list of content parts (multimodal
/// prompts); plain text stays as it is.
fn flattened_content(raw: &str) -> String {
    if raw.starts_with('[')
        && let Ok(Value::Array(parts)) = serde_json::from_str::<Value>(raw)
    {
        let (text, _) = text_of_parts(&parts);
        if !text.is_empty() {
            return text;
        }
    }
    raw.to_owned()
}

fn flattened_message(entry: &Indexed<'_>, default_role: &str, calls_prefix: &str) -> ChatMessage {
    let tool_calls = entry
        .indexed(calls_prefix)
        .iter()
        .filter_map(|call| {
            let name = call
                .str("name")
                .or_else(|| call.str("tool_call.function.name"))?;
            let arguments = call
                .get("arguments")
                .or_else(|| call.get("tool_call.function.arguments"))
                .map(|a| a.to_json(true))
                .unwrap_or(Value::Null);
            Some(ToolCall {
                id: call
                    .str("id")
                    .or_else(|| call.str("tool_call.id"))
                    .map(str::to_owned),
                name: name.to_owned(),
                arguments,
            })
        })
        .collect();
    ChatMessage {
        role: entry.str("role").unwrap_or(default_role).to_owned(),
        content: entry
            .str("content")
            .map(flattened_content)
            .unwrap_or_default(),
        tool_calls,
    }
}

fn flattened_list(attrs: &Attributes, prefix: &str, default_role: &str) -> Vec<ChatMessage> {
    attrs
        .indexed(prefix)
        .iter()
        .map(|entry| flattened_message(entry, default_role, "tool_calls"))
        .filter(|m| !m.is_empty())
        .collect()
}

/// The leading system messages (instructions) apart from the conversation.
fn split_system(mut messages: Vec<ChatMessage>) -> (Vec<ChatMessage>, Vec<ChatMessage>) {
    let split = messages
        .iter()
        .position(|m| m.role != "system")
        .unwrap_or(messages.len());
    let system = messages.drain(..split).collect();
    (system, messages)
}

pub(super) fn from_openllmetry(span: &Span) -> Option<Conversation> {
    let input = flattened_list(&span.attributes, "gen_ai.prompt", "user");
    if input.is_empty() {
        return None;
    }
    let (system, input) = split_system(input);
    Some(Conversation {
        system,
        input,
        output: flattened_list(&span.attributes, "gen_ai.completion", "assistant"),
    })
}

// ---- Deprecated GenAI events ----------------------------------------------

fn event_role(name: &str) -> Option<&'static str> {
    match name {
        "gen_ai.system.message" => Some("system"),
        "gen_ai.user.message" => Some("user"),
        "gen_ai.assistant.message" => Some("assistant"),
        "gen_ai.tool.message" => Some("tool"),
        _ => None,
    }
}

/// An event's message: `content` (a string, or a structured body), or a
/// `message` object as `gen_ai.choice` carries it.
fn event_message(event: &SpanEvent, role: &str) -> Option<ChatMessage> {
    let attrs = &event.attributes;
    let role = attrs.str("role").unwrap_or(role);
    if let Some(message) = attrs.get("message") {
        return genai_message(&message.to_json(true), role).map(|mut m| {
            m.tool_calls
                .extend(event_tool_calls(&message.to_json(true)));
            m
        });
    }
    let content = match attrs
        .get("content")
        .or_else(|| attrs.get("gen_ai.event.content"))
    {
        Some(AttrValue::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(v @ Value::Object(_)) => return genai_message(&v, role),
            _ => s.clone(),
        },
        Some(other) => compact(&other.to_json(true)),
        None => String::new(),
    };
    let message = ChatMessage::new(role, content);
    (!message.is_empty()).then_some(message)
}

/// OpenAI-shaped `tool_calls` of a choice's message.
fn event_tool_calls(message: &Value) -> Vec<ToolCall> {
    let Some(Value::Array(calls)) = message.get("tool_calls") else {
        return Vec::new();
    };
    calls
        .iter()
        .filter_map(|c| {
            let function = c.get("function").unwrap_or(c);
            Some(ToolCall {
                id: c.get("id").and_then(Value::as_str).map(str::to_owned),
                name: function.get("name")?.as_str()?.to_owned(),
                arguments: function.get("arguments").cloned().unwrap_or(Value::Null),
            })
        })
        .collect()
}

pub(super) fn from_genai_events(span: &Span) -> Option<Conversation> {
    let mut conversation = Conversation::default();
    let mut found = false;
    for event in &span.events {
        let name = event.name.as_str();
        if let Some(role) = event_role(name) {
            found = true;
            if let Some(m) = event_message(event, role) {
                if role == "system" {
                    conversation.system.push(m);
                } else {
                    conversation.input.push(m);
                }
            }
        } else if name == "gen_ai.choice" {
            found = true;
            if let Some(m) = event_message(event, "assistant") {
                conversation.output.push(m);
            }
        } else if name == "gen_ai.content.prompt" {
            // The first GenAI events: the whole prompt as one attribute.
            found = true;
            if let Some(v) = json_attribute(&event.attributes, "gen_ai.prompt") {
                conversation.input.extend(genai_messages(&v, "user"));
            }
        } else if name == "gen_ai.content.completion" {
            found = true;
            if let Some(v) = json_attribute(&event.attributes, "gen_ai.completion") {
                conversation.output.extend(genai_messages(&v, "assistant"));
            }
        }
    }
    found.then_some(conversation)
}

// ---- OpenInference ---------------------------------------------------------

fn openinference_message(entry: &Indexed<'_>, default_role: &str) -> ChatMessage {
    let mut message = flattened_message(entry, default_role, "message.tool_calls");
    message.role = entry.str("message.role").unwrap_or(default_role).to_owned();
    message.content = match entry.str("message.content") {
        Some(c) => c.to_owned(),
        None => entry
            .indexed("message.contents")
            .iter()
            .filter_map(|part| part.str("message_content.text"))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    message
}

fn openinference_list(attrs: &Attributes, prefix: &str, default_role: &str) -> Vec<ChatMessage> {
    attrs
        .indexed(prefix)
        .iter()
        .map(|entry| openinference_message(entry, default_role))
        .filter(|m| !m.is_empty())
        .collect()
}

pub(super) fn from_openinference_messages(span: &Span) -> Option<Conversation> {
    let input = openinference_list(&span.attributes, "llm.input_messages", "user");
    if input.is_empty() {
        return None;
    }
    let (system, input) = split_system(input);
    let mut output = openinference_list(&span.attributes, "llm.output_messages", "assistant");
    if output.is_empty()
        && let Some(value) = span.attributes.str("output.value")
    {
        output.push(ChatMessage::new("assistant", value.to_owned()));
    }
    Some(Conversation {
        system,
        input,
        output,
    })
}

pub(super) fn from_openinference_values(span: &Span) -> Option<Conversation> {
    let input = span.attributes.str("input.value")?;
    Some(Conversation {
        system: Vec::new(),
        input: vec![ChatMessage::new("user", input.to_owned())],
        output: span
            .attributes
            .str("output.value")
            .map(|o| vec![ChatMessage::new("assistant", o.to_owned())])
            .unwrap_or_default(),
    })
}

/// Reads a span's conversation in one vocabulary.
type Reader = fn(&Span) -> Option<Conversation>;

/// The span's conversation from the first vocabulary present, in the
/// documented lookup order.
pub fn conversation(span: &Span) -> Option<(Vocabulary, Conversation)> {
    let readers: [(Vocabulary, Reader); 5] = [
        (Vocabulary::GenAiMessages, from_genai_messages),
        (Vocabulary::GenAiFlattened, from_openllmetry),
        (Vocabulary::GenAiEvents, from_genai_events),
        (
            Vocabulary::OpenInferenceMessages,
            from_openinference_messages,
        ),
        (Vocabulary::OpenInferenceValues, from_openinference_values),
    ];
    readers
        .into_iter()
        .find_map(|(vocabulary, read)| read(span).map(|c| (vocabulary, c)))
}
