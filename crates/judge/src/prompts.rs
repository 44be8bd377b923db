//! Renders the judge prompts from the versioned template files.
//!
//! Untrusted sample text (question, answer, context, reference, rubric
//! criteria) is placed between tags that carry a per-call random nonce. The
//! content cannot close its own tag: it does not know the nonce, and any
//! occurrence of the nonce in it is replaced before rendering.

use minijinja::{Environment, UndefinedBehavior, context};

use evalguard_domain::traffic::TrafficSample;

use crate::judge_spec::{Interpretation, JudgeSpec};

/// Template files by name (the file stem, version included).
const TEMPLATES: [(&str, &str); 7] = [
    ("system.v1", include_str!("../templates/system.v1.j2")),
    (
        "hallucination.v1",
        include_str!("../templates/hallucination.v1.j2"),
    ),
    (
        "answer_relevance.v1",
        include_str!("../templates/answer_relevance.v1.j2"),
    ),
    (
        "context_relevance.v1",
        include_str!("../templates/context_relevance.v1.j2"),
    ),
    (
        "correctness.v1",
        include_str!("../templates/correctness.v1.j2"),
    ),
    ("toxicity.v1", include_str!("../templates/toxicity.v1.j2")),
    ("rubric.v1", include_str!("../templates/rubric.v1.j2")),
];

/// The system template's name; part of every cache key.
pub const SYSTEM_TEMPLATE: &str = "system.v1";

/// Replaces the nonce wherever it appears in untrusted text.
const NONCE_REPLACEMENT: &str = "[delimiter removed]";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedPrompt {
    pub system: String,
    pub user: String,
}

#[derive(Debug, thiserror::Error)]
#[error("judge template {template} failed to render: {message}")]
pub struct PromptError {
    pub template: String,
    pub message: String,
}

/// The compiled templates; build once and share.
#[derive(Debug)]
pub struct PromptRenderer {
    env: Environment<'static>,
}

/// A fresh random nonce for one call's delimiters (16 hex digits).
pub fn new_nonce() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    id[..16].to_owned()
}

fn neutralise(text: &str, nonce: &str) -> String {
    if nonce.is_empty() {
        return text.to_owned();
    }
    text.replace(nonce, NONCE_REPLACEMENT)
}

impl PromptRenderer {
    pub fn new() -> Result<Self, PromptError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        for (name, source) in TEMPLATES {
            env.add_template(name, source).map_err(|e| PromptError {
                template: name.to_owned(),
                message: e.to_string(),
            })?;
        }
        Ok(Self { env })
    }

    /// The text of a template as compiled (empty for an unknown name). It is
    /// part of the verdict cache key, so an edited template never serves the
    /// verdicts of its previous text.
    pub fn template_source(&self, name: &str) -> String {
        self.env
            .get_template(name)
            .map(|t| t.source().to_owned())
            .unwrap_or_default()
    }

    /// Renders the prompt of `spec` for `sample`, with `nonce` in every delimiter.
    pub fn render(
        &self,
        spec: &JudgeSpec,
        sample: &TrafficSample,
        nonce: &str,
        structured: bool,
    ) -> Result<RenderedPrompt, PromptError> {
        let fail = |template: &str, e: minijinja::Error| PromptError {
            template: template.to_owned(),
            message: e.to_string(),
        };
        let (score_min, score_max) = match spec.interpretation {
            Interpretation::Rubric { min, max, .. } => (min, max),
            _ => (0.0, 1.0),
        };
        let context_passages: Vec<String> = sample
            .context
            .iter()
            .filter(|c| !c.trim().is_empty())
            .map(|c| neutralise(c, nonce))
            .collect();
        let ctx = context! {
            nonce => nonce,
            structured => structured,
            input => neutralise(&sample.input, nonce),
            output => neutralise(&sample.output, nonce),
            context => context_passages,
            reference => neutralise(sample.reference.as_deref().unwrap_or(""), nonce),
            criteria => neutralise(spec.criteria.as_deref().unwrap_or(""), nonce),
            score_min => format_number(score_min),
            score_max => format_number(score_max),
        };
        let system = self
            .env
            .get_template(SYSTEM_TEMPLATE)
            .and_then(|t| t.render(&ctx))
            .map_err(|e| fail(SYSTEM_TEMPLATE, e))?;
        let user = self
            .env
            .get_template(spec.template)
            .and_then(|t| t.render(&ctx))
            .map_err(|e| fail(spec.template, e))?;
        Ok(RenderedPrompt { system, user })
    }
}

/// `5` rather than `5.0` in prompts.
fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}
