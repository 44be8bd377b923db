//! How each kind of provider speaks: where requests go, how they are
//! authenticated and encoded, how an answer is read. One implementation per
//! kind; [`protocol_for`] is the only place that looks at the kind.

mod anthropic;
mod openai;

use reqwest::RequestBuilder;
use serde_json::Value;

use crate::config::{ProviderConfig, ProviderKind};
use crate::judge_spec::truncate_raw;
use crate::prompts::RenderedPrompt;
use crate::provider::JudgeReply;

/// A successful answer, read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Answer {
    pub reply: JudgeReply,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

pub(crate) trait ProviderProtocol: Send + Sync {
    /// The URL a judge call is posted to.
    fn endpoint(&self, base_url: &str) -> String;
    /// The request with the key (and any header the protocol requires).
    fn authorize(&self, request: RequestBuilder, api_key: Option<&str>) -> RequestBuilder;
    /// The body of one judge call, serialized once (retries resend it).
    fn encode(
        &self,
        config: &ProviderConfig,
        prompt: &RenderedPrompt,
        schema: &Value,
    ) -> Result<Vec<u8>, serde_json::Error>;
    /// A 2xx answer's body: the reply and the tokens it cost.
    fn read(&self, text: &str) -> Answer;
}

/// The protocol of a provider kind.
pub(crate) fn protocol_for(kind: ProviderKind) -> &'static dyn ProviderProtocol {
    match kind {
        ProviderKind::Openai => &openai::OpenAiProtocol,
        ProviderKind::Anthropic => &anthropic::AnthropicProtocol,
    }
}

/// A 2xx answer whose body is not the protocol's.
fn unreadable(text: &str, reason: &str) -> Answer {
    Answer {
        reply: JudgeReply::Unreadable {
            raw: truncate_raw(text),
            reason: reason.to_owned(),
        },
        prompt_tokens: 0,
        completion_tokens: 0,
    }
}
