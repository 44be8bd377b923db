//! The two protocols on the wire. Responses are lenient: every field
//! optional, unknown fields ignored, content kept as raw JSON so that an
//! unexpected shape degrades to "unparsable" rather than an error. Requests
//! are typed structs borrowing the rendered prompt.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Completion budget of one verdict.
pub const MAX_OUTPUT_TOKENS: u32 = 1024;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OpenAiResponse {
    pub choices: Vec<OpenAiChoice>,
    pub usage: Option<OpenAiUsage>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OpenAiChoice {
    pub message: Option<OpenAiMessage>,
    /// Kept as a string: providers add values (`content_filter`, `eos`, …).
    pub finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OpenAiMessage {
    /// A string, or (some servers) a list of `{type: "text", text}` parts.
    pub content: Value,
    pub refusal: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OpenAiUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AnthropicResponse {
    pub content: Vec<AnthropicBlock>,
    pub usage: Option<AnthropicUsage>,
    pub stop_reason: Option<String>,
}

/// A content block; `kind` is a string so that new block types are tolerated.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AnthropicBlock {
    #[serde(rename = "type")]
    pub kind: String,
    pub text: Option<String>,
    pub name: Option<String>,
    pub input: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AnthropicUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// The text of an OpenAI message content (string or text parts).
pub fn openai_content_text(content: &Value) -> Option<String> {
    match content {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => {
            let text: Vec<&str> = parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect();
            (!text.is_empty()).then(|| text.join(""))
        }
        _ => None,
    }
}

/// `POST /chat/completions`, serialized straight from borrowed prompt text
/// (no intermediate JSON tree per call).
#[derive(Debug, Serialize)]
pub struct OpenAiRequest<'a> {
    pub model: &'a str,
    pub messages: [ChatMessage<'a>; 2],
    pub temperature: u8,
    pub max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat<'a>>,
}

#[derive(Debug, Serialize)]
pub struct ChatMessage<'a> {
    pub role: &'static str,
    pub content: &'a str,
}

#[derive(Debug, Serialize)]
pub struct ResponseFormat<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub json_schema: NamedSchema<'a>,
}

#[derive(Debug, Serialize)]
pub struct NamedSchema<'a> {
    pub name: &'static str,
    pub strict: bool,
    pub schema: &'a Value,
}

/// `POST /v1/messages`.
#[derive(Debug, Serialize)]
pub struct AnthropicRequest<'a> {
    pub model: &'a str,
    pub max_tokens: u32,
    pub system: &'a str,
    pub messages: [ChatMessage<'a>; 1],
    pub temperature: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<[AnthropicTool<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
}

#[derive(Debug, Serialize)]
pub struct AnthropicTool<'a> {
    pub name: &'static str,
    pub description: &'static str,
    pub input_schema: &'a Value,
}

#[derive(Debug, Serialize)]
pub struct ToolChoice {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: &'static str,
}
