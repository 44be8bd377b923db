//! OpenAI's chat completions (and every server that speaks them: Azure,
//! vLLM, Ollama, LiteLLM…): bearer key, JSON-schema output.

use reqwest::RequestBuilder;
use serde_json::Value;

use super::{Answer, ProviderProtocol, unreadable};
use crate::config::ProviderConfig;
use crate::judge_spec::truncate_raw;
use crate::prompts::RenderedPrompt;
use crate::provider::JudgeReply;
use crate::wire::{
    ChatMessage, MAX_OUTPUT_TOKENS, NamedSchema, OpenAiRequest, OpenAiResponse, ResponseFormat,
    openai_content_text,
};

pub(crate) struct OpenAiProtocol;

impl ProviderProtocol for OpenAiProtocol {
    fn endpoint(&self, base_url: &str) -> String {
        format!("{}/chat/completions", base_url.trim_end_matches('/'))
    }

    fn authorize(&self, request: RequestBuilder, api_key: Option<&str>) -> RequestBuilder {
        match api_key {
            Some(key) => request.bearer_auth(key),
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
        serde_json::to_vec(&OpenAiRequest {
            model: &config.model,
            messages: [
                ChatMessage {
                    role: "system",
                    content: &prompt.system,
                },
                ChatMessage {
                    role: "user",
                    content: &prompt.user,
                },
            ],
            temperature: 0,
            max_tokens: MAX_OUTPUT_TOKENS,
            seed: config.seed,
            response_format: structured.then_some(ResponseFormat {
                kind: "json_schema",
                json_schema: NamedSchema {
                    name: "verdict",
                    strict: true,
                    schema,
                },
            }),
        })
    }

    fn read(&self, text: &str) -> Answer {
        let Ok(parsed) = serde_json::from_str::<OpenAiResponse>(text) else {
            return unreadable(text, "the provider's answer is not a chat completion");
        };
        let (prompt_tokens, completion_tokens) = parsed
            .usage
            .as_ref()
            .map_or((0, 0), |u| (u.prompt_tokens, u.completion_tokens));
        let message = parsed.choices.into_iter().next().and_then(|c| c.message);
        let reply = match message {
            Some(m) if m.refusal.as_deref().is_some_and(|r| !r.is_empty()) => {
                JudgeReply::Unreadable {
                    raw: truncate_raw(m.refusal.as_deref().unwrap_or_default()),
                    reason: "the judge refused to answer".into(),
                }
            }
            Some(m) => match openai_content_text(&m.content) {
                Some(content) => JudgeReply::Text(content),
                None => JudgeReply::Unreadable {
                    raw: truncate_raw(text),
                    reason: "the completion has no text".into(),
                },
            },
            None => JudgeReply::Unreadable {
                raw: truncate_raw(text),
                reason: "the completion has no choices".into(),
            },
        };
        Answer {
            reply,
            prompt_tokens,
            completion_tokens,
        }
    }
}
