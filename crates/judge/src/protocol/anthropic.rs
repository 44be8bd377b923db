//! Anthropic's messages API: `x-api-key`, a version header, and the
//! verdict as a forced tool call.

use reqwest::RequestBuilder;
use serde_json::Value;

use super::{Answer, ProviderProtocol, unreadable};
use crate::config::ProviderConfig;
use crate::judge_spec::truncate_raw;
use crate::prompts::RenderedPrompt;
use crate::provider::JudgeReply;
use crate::wire::{
    AnthropicRequest, AnthropicResponse, AnthropicTool, ChatMessage, MAX_OUTPUT_TOKENS, ToolChoice,
};

/// The API version the requests are written for.
const ANTHROPIC_VERSION: &str = "2023-06-01";

pub(crate) struct AnthropicProtocol;

impl ProviderProtocol for AnthropicProtocol {
    fn endpoint(&self, base_url: &str) -> String {
        let base = base_url.trim_end_matches('/');
        if base.ends_with("/v1") {
            format!("{base}/messages")
        } else {
            format!("{base}/v1/messages")
        }
    }

    fn authorize(&self, request: RequestBuilder, api_key: Option<&str>) -> RequestBuilder {
        let request = request.header("anthropic-version", ANTHROPIC_VERSION);
        match api_key {
            Some(key) => request.header("x-api-key", key),
            None => request,
        }
    }

    fn encode(
        &self,
        config: &ProviderConfig,
        prompt: &RenderedPrompt,
        schema: &Value,
    ) -> Result<Vec<u8>, serde_json::Error> {
        let structured = config.structured_output;
        serde_json::to_vec(&AnthropicRequest {
            model: &config.model,
            max_tokens: MAX_OUTPUT_TOKENS,
            system: &prompt.system,
            messages: [ChatMessage {
                role: "user",
                content: &prompt.user,
            }],
            temperature: 0,
            tools: structured.then_some([AnthropicTool {
                name: "verdict",
                description: "Record the evaluation verdict.",
                input_schema: schema,
            }]),
            tool_choice: structured.then_some(ToolChoice {
                kind: "tool",
                name: "verdict",
            }),
        })
    }

    fn read(&self, text: &str) -> Answer {
        let Ok(parsed) = serde_json::from_str::<AnthropicResponse>(text) else {
            return unreadable(text, "the provider's answer is not an Anthropic message");
        };
        let (prompt_tokens, completion_tokens) = parsed
            .usage
            .as_ref()
            .map_or((0, 0), |u| (u.input_tokens, u.output_tokens));
        let tool_input = parsed
            .content
            .iter()
            .find(|b| b.kind == "tool_use" && b.name.as_deref() == Some("verdict"))
            .and_then(|b| b.input.clone());
        let texts: Vec<&str> = parsed
            .content
            .iter()
            .filter_map(|b| b.text.as_deref())
            .collect();
        let reply = match tool_input {
            Some(verdict) => JudgeReply::Structured {
                raw: verdict.to_string(),
                verdict,
            },
            None if !texts.is_empty() => JudgeReply::Text(texts.join("")),
            None => JudgeReply::Unreadable {
                raw: truncate_raw(text),
                reason: "the message has neither a verdict tool call nor text".into(),
            },
        };
        Answer {
            reply,
            prompt_tokens,
            completion_tokens,
        }
    }
}
