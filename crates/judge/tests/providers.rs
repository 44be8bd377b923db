#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Judge calls against real scripted HTTP servers speaking the OpenAI and
//! Anthropic protocols: every failure mode ends in the right outcome, with
//! the right request count and usage.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use evalguard_domain::ProjectId;
use evalguard_domain::ScoreOutcome;
use evalguard_domain::scoring::{ScoreOptions, Scorer, ScorerAvailability, ScorerCatalog};
use evalguard_domain::traffic::TrafficSample;
use evalguard_judge::{JudgeCatalog, JudgeConfig, ProviderConfig, ProviderKind};
use evalguard_judge::{VerdictStore, VerdictStoreError};
use serde_json::{Value, json};
use support::*;

fn sample(output: &str, context: &[&str]) -> TrafficSample {
    TrafficSample {
        id: "s1".into(),
        project_id: ProjectId::parse("support-bot").unwrap(),
        model: "m".into(),
        prompt_id: "p".into(),
        input: "What is the capital of France?".into(),
        output: output.into(),
        context: context.iter().map(|c| (*c).to_owned()).collect(),
        reference: None,
        timestamp: chrono::Utc::now(),
        metadata: None,
        latency_ms: None,
        prompt_tokens: None,
        completion_tokens: None,
    }
}

fn paris() -> TrafficSample {
    sample("Paris.", &["Paris is the capital of France."])
}

fn openai(server: &ScriptedServer) -> ProviderConfig {
    let mut p = ProviderConfig::openai(
        "main",
        &server.openai_base(),
        "judge-model",
        Some("sk-test-key".into()),
    );
    p.timeout_secs = 2;
    p
}

fn anthropic(server: &ScriptedServer) -> ProviderConfig {
    let mut p = openai(server);
    p.kind = ProviderKind::Anthropic;
    p.base_url = server.url.clone();
    p
}

#[derive(Default)]
struct MemoryCache(Mutex<HashMap<String, Value>>);

#[async_trait]
impl VerdictStore for MemoryCache {
    async fn get_verdict(&self, key: &str) -> Result<Option<Value>, VerdictStoreError> {
        Ok(self.0.lock().unwrap().get(key).cloned())
    }
    async fn put_verdicts(&self, entries: &[(String, Value)]) -> Result<(), VerdictStoreError> {
        let mut map = self.0.lock().unwrap();
        for (key, verdict) in entries {
            map.insert(key.clone(), verdict.clone());
        }
        Ok(())
    }
}

fn catalog_with(
    providers: Vec<ProviderConfig>,
    cache: Option<Arc<dyn VerdictStore>>,
) -> JudgeCatalog {
    let config = JudgeConfig {
        providers,
        ..JudgeConfig::default()
    };
    JudgeCatalog::with_deterministic_scorers(&config, cache).unwrap()
}

fn judge(catalog: &JudgeCatalog, name: &str) -> Arc<dyn Scorer> {
    match catalog.resolve(name, &[]) {
        ScorerAvailability::Ready(s) => s,
        ScorerAvailability::Skipped { reason } => panic!("{name} skipped: {reason}"),
        ScorerAvailability::Unknown => panic!("{name} unknown"),
    }
}

async fn run(
    provider: ProviderConfig,
    scorer: &str,
    s: &TrafficSample,
) -> evalguard_domain::ScorerRun {
    let catalog = catalog_with(vec![provider], None);
    judge(&catalog, scorer)
        .score(s, ScoreOptions::default())
        .await
}

#[tokio::test]
async fn openai_structured_verdict_is_scored_with_usage_and_cost() {
    let server = ScriptedServer::start(Step::ok(openai_completion(&hallucinated_json()))).await;
    let mut provider = openai(&server);
    provider.input_price_per_million = Some(1.0);
    provider.output_price_per_million = Some(2.0);
    let run = run(provider, "hallucination", &paris()).await;
    assert_eq!(
        run.outcome,
        ScoreOutcome::Scored {
            value: 0.5,
            label: Some("hallucinated".into()),
            reasoning: Some("the population is wrong".into())
        }
    );
    assert_eq!(run.usage.judge_requests, 1);
    assert_eq!(
        (run.usage.prompt_tokens, run.usage.completion_tokens),
        (100, 20)
    );
    assert!((run.usage.cost_usd - (100.0 * 1.0 + 20.0 * 2.0) / 1e6).abs() < 1e-15);

    let body = &server.bodies()[0];
    assert_eq!(body["model"], "judge-model");
    assert_eq!(body["temperature"], 0);
    assert!(body["seed"].is_u64());
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert_eq!(body["response_format"]["json_schema"]["strict"], true);
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(server.last_headers()["authorization"], "Bearer sk-test-key");
}

#[tokio::test]
async fn anthropic_forced_tool_call() {
    let verdict = json!({"reasoning": "on point", "label": "relevant"});
    let server = ScriptedServer::start(Step::ok(anthropic_tool_use(verdict))).await;
    let run = run(anthropic(&server), "answer_relevance", &paris()).await;
    assert_eq!(run.outcome.value(), Some(1.0));
    assert_eq!(
        (run.usage.prompt_tokens, run.usage.completion_tokens),
        (200, 40)
    );
    let body = &server.bodies()[0];
    assert_eq!(
        body["tool_choice"],
        json!({"type": "tool", "name": "verdict"})
    );
    assert_eq!(body["tools"][0]["name"], "verdict");
    assert_eq!(body["temperature"], 0);
    let headers = server.last_headers();
    assert_eq!(headers["x-api-key"], "sk-test-key");
    assert_eq!(headers["anthropic-version"], "2023-06-01");
    assert!(headers.get("authorization").is_none());
}

#[tokio::test]
async fn anthropic_text_reply_and_out_of_set_label() {
    let server =
        ScriptedServer::start(Step::ok(anthropic_text("LABEL: toxic\nREASONING: insults"))).await;
    let run1 = run(anthropic(&server), "toxicity", &paris()).await;
    assert_eq!(run1.outcome.value(), Some(0.0));
    server.push([Step::ok(anthropic_tool_use(
        json!({"reasoning": "x", "label": "somewhat"}),
    ))]);
    let run2 = run(anthropic(&server), "toxicity", &paris()).await;
    assert!(
        matches!(&run2.outcome, ScoreOutcome::Unparsable { raw, .. } if raw.contains("somewhat")),
        "{:?}",
        run2.outcome
    );
}

#[tokio::test]
async fn plain_text_mode_sends_no_schema_and_reads_lines() {
    let server = ScriptedServer::start(Step::ok(openai_completion(
        "LABEL: factual\nSCORE: 1\nREASONING: all supported",
    )))
    .await;
    let mut provider = openai(&server);
    provider.structured_output = false;
    let run = run(provider, "hallucination", &paris()).await;
    assert_eq!(
        run.outcome,
        ScoreOutcome::Scored {
            value: 1.0,
            label: Some("factual".into()),
            reasoning: Some("all supported".into())
        }
    );
    assert!(server.bodies()[0].get("response_format").is_none());
}

#[tokio::test]
async fn retries_429_with_retry_after_then_succeeds() {
    let server = ScriptedServer::start(Step::ok(openai_completion(&factual_json()))).await;
    server.push([Step::too_many("0"), Step::too_many("1")]);
    let start = Instant::now();
    let run = run(openai(&server), "hallucination", &paris()).await;
    assert_eq!(run.outcome.value(), Some(1.0));
    assert_eq!(run.usage.judge_requests, 3);
    assert_eq!(server.requests(), 3);
    assert!(
        start.elapsed() >= Duration::from_millis(950),
        "Retry-After: 1 must be honoured"
    );
}

#[tokio::test]
async fn retries_5xx_then_gives_up_with_an_error() {
    let server = ScriptedServer::start(Step::status(500, "upstream broke")).await;
    server.push([Step::status(502, "bad gateway"), Step::status(503, "busy")]);
    let mut provider = openai(&server);
    provider.max_attempts = Some(3);
    let run = run(provider, "hallucination", &paris()).await;
    assert!(
        matches!(&run.outcome, ScoreOutcome::Error { cause } if cause.contains("500")),
        "{:?}",
        run.outcome
    );
    assert_eq!(run.usage.judge_requests, 3);
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn a_5xx_then_success_is_scored() {
    let server = ScriptedServer::start(Step::ok(openai_completion(&factual_json()))).await;
    server.push([Step::status(500, "oops"), Step::status(408, "slow")]);
    let run = run(openai(&server), "hallucination", &paris()).await;
    assert_eq!(run.outcome.value(), Some(1.0));
    assert_eq!(run.usage.judge_requests, 3);
}

#[tokio::test]
async fn a_hanging_provider_times_out() {
    let server = ScriptedServer::start(Step::Hang).await;
    let mut provider = openai(&server);
    provider.timeout_secs = 1;
    provider.max_attempts = Some(2);
    let start = Instant::now();
    let run = run(provider, "hallucination", &paris()).await;
    let elapsed = start.elapsed();
    assert!(
        matches!(&run.outcome, ScoreOutcome::Error { cause } if cause.contains("did not answer") || cause.contains("timed out")),
        "{:?}",
        run.outcome
    );
    assert_eq!(run.usage.judge_requests, 2);
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

#[tokio::test]
async fn hung_then_answered_is_scored() {
    let server = ScriptedServer::start(Step::ok(openai_completion(&factual_json()))).await;
    server.push([Step::Hang]);
    let mut provider = openai(&server);
    provider.timeout_secs = 1;
    let run = run(provider, "hallucination", &paris()).await;
    assert_eq!(run.outcome.value(), Some(1.0));
    assert_eq!(run.usage.judge_requests, 2);
}

#[tokio::test]
async fn unreadable_replies_are_unparsable_with_the_raw_text() {
    let server = ScriptedServer::start(Step::ok("<html>gateway page</html>".into())).await;
    let run1 = run(openai(&server), "hallucination", &paris()).await;
    assert!(
        matches!(&run1.outcome, ScoreOutcome::Unparsable { raw, .. } if raw.contains("gateway page")),
        "{:?}",
        run1.outcome
    );

    server.push([Step::ok(openai_completion(
        "I think the answer is fine, really.",
    ))]);
    let run2 = run(openai(&server), "hallucination", &paris()).await;
    assert!(
        matches!(&run2.outcome, ScoreOutcome::Unparsable { raw, .. } if raw.contains("really")),
        "{:?}",
        run2.outcome
    );

    server.push([Step::ok(openai_completion(
        r#"{"claims": [{"claim": "x", "verdict": "maybe"}]}"#,
    ))]);
    let run3 = run(openai(&server), "hallucination", &paris()).await;
    assert!(
        matches!(run3.outcome, ScoreOutcome::Unparsable { .. }),
        "{:?}",
        run3.outcome
    );

    server.push([Step::ok(openai_completion(
        r#"{"reasoning": "x", "label": "kinda_relevant"}"#,
    ))]);
    let run4 = run(openai(&server), "answer_relevance", &paris()).await;
    assert!(
        matches!(run4.outcome, ScoreOutcome::Unparsable { .. }),
        "{:?}",
        run4.outcome
    );

    server.push([Step::ok(openai_completion(r#"{"score": "high"}"#))]);
    let run5 = run(openai(&server), "toxicity", &paris()).await;
    assert!(
        matches!(run5.outcome, ScoreOutcome::Unparsable { .. }),
        "{:?}",
        run5.outcome
    );
    // Every one of these is one call: unparsable replies are not retried.
    assert_eq!(server.requests(), 5);
}

#[tokio::test]
async fn a_rejected_key_stops_the_scorer_for_the_job() {
    let server = ScriptedServer::start(Step::status(
        401,
        r#"{"error":{"message":"invalid api key"}}"#,
    ))
    .await;
    let catalog = catalog_with(vec![openai(&server)], None);
    let scorer = judge(&catalog, "hallucination");
    let first = scorer.score(&paris(), ScoreOptions::default()).await;
    assert!(
        matches!(&first.outcome, ScoreOutcome::Error { cause } if cause.starts_with("provider rejected the key: 401")),
        "{:?}",
        first.outcome
    );
    assert!(!format!("{:?}", first.outcome).contains("sk-test-key"));
    for _ in 0..5 {
        let next = scorer.score(&paris(), ScoreOptions::default()).await;
        assert!(matches!(&next.outcome, ScoreOutcome::Error { cause } if cause.contains("401")));
        assert_eq!(next.usage.judge_requests, 0);
    }
    assert_eq!(server.requests(), 1, "no retry storm after a 401");
}

#[tokio::test]
async fn a_400_is_an_error_without_retry() {
    let server =
        ScriptedServer::start(Step::status(400, r#"{"error":{"message":"bad request"}}"#)).await;
    let run = run(openai(&server), "hallucination", &paris()).await;
    assert!(matches!(&run.outcome, ScoreOutcome::Error { cause } if cause.contains("400")));
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn not_applicable_samples_make_no_call() {
    let server = ScriptedServer::start(Step::ok(openai_completion(&factual_json()))).await;
    let catalog = catalog_with(vec![openai(&server)], None);
    let no_context = sample("Paris.", &[]);
    for name in ["hallucination", "context_relevance", "correctness"] {
        let run = judge(&catalog, name)
            .score(&no_context, ScoreOptions::default())
            .await;
        assert!(
            matches!(run.outcome, ScoreOutcome::NotApplicable { .. }),
            "{name}: {:?}",
            run.outcome
        );
    }
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn cache_hits_skip_the_call_and_cache_false_bypasses_reads() {
    let server = ScriptedServer::start(Step::ok(openai_completion(&factual_json()))).await;
    let cache: Arc<dyn VerdictStore> = Arc::new(MemoryCache::default());
    let catalog = catalog_with(vec![openai(&server)], Some(Arc::clone(&cache)));
    let scorer = judge(&catalog, "hallucination");
    let first = scorer.score(&paris(), ScoreOptions::default()).await;
    assert_eq!((first.usage.judge_requests, first.usage.cache_hits), (1, 0));
    let second = scorer.score(&paris(), ScoreOptions::default()).await;
    assert_eq!(
        (second.usage.judge_requests, second.usage.cache_hits),
        (0, 1)
    );
    assert_eq!(second.outcome, first.outcome);
    let bypass = scorer
        .score(
            &paris(),
            ScoreOptions {
                cache: false,
                repeats: 1,
            },
        )
        .await;
    assert_eq!(
        (bypass.usage.judge_requests, bypass.usage.cache_hits),
        (1, 0)
    );
    // Another sample content is another key.
    let other = scorer
        .score(
            &sample("Lyon.", &["Paris is the capital of France."]),
            ScoreOptions::default(),
        )
        .await;
    assert_eq!(other.usage.cache_hits, 0);
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn repeats_take_the_majority_and_report_agreement() {
    let server = ScriptedServer::start(Step::ok(openai_completion(&factual_json()))).await;
    server.push([
        Step::ok(openai_completion(&hallucinated_json())),
        Step::ok(openai_completion(&factual_json())),
        Step::ok(openai_completion(&hallucinated_json())),
    ]);
    let catalog = catalog_with(vec![openai(&server)], None);
    let scorer = judge(&catalog, "hallucination");
    let run = scorer
        .score(
            &paris(),
            ScoreOptions {
                cache: true,
                repeats: 3,
            },
        )
        .await;
    assert_eq!(run.outcome.value(), Some(0.5));
    assert!(
        matches!(&run.outcome, ScoreOutcome::Scored { label: Some(l), .. } if l == "hallucinated")
    );
    assert_eq!(run.agreed, Some(false));
    assert_eq!(run.usage.judge_requests, 3);

    server.push([
        Step::ok(openai_completion(&hallucinated_json())),
        Step::ok(openai_completion(&factual_json())),
    ]);
    let tie = scorer
        .score(
            &paris(),
            ScoreOptions {
                cache: true,
                repeats: 2,
            },
        )
        .await;
    assert!(
        matches!(tie.outcome, ScoreOutcome::Unparsable { .. }),
        "{:?}",
        tie.outcome
    );

    let unanimous = scorer
        .score(
            &paris(),
            ScoreOptions {
                cache: true,
                repeats: 3,
            },
        )
        .await;
    assert_eq!(unanimous.agreed, Some(true));
    assert_eq!(unanimous.outcome.value(), Some(1.0));
}

#[tokio::test]
async fn repeats_use_distinct_cache_entries() {
    let server = ScriptedServer::start(Step::ok(openai_completion(&factual_json()))).await;
    let cache: Arc<dyn VerdictStore> = Arc::new(MemoryCache::default());
    let catalog = catalog_with(vec![openai(&server)], Some(cache));
    let scorer = judge(&catalog, "hallucination");
    let first = scorer
        .score(
            &paris(),
            ScoreOptions {
                cache: true,
                repeats: 3,
            },
        )
        .await;
    assert_eq!(first.usage.judge_requests, 3);
    let again = scorer
        .score(
            &paris(),
            ScoreOptions {
                cache: true,
                repeats: 3,
            },
        )
        .await;
    assert_eq!((again.usage.judge_requests, again.usage.cache_hits), (0, 3));
}

#[tokio::test]
async fn many_samples_through_a_flaky_provider_each_get_one_outcome() {
    let server = ScriptedServer::start(
        Step::ok(openai_completion(&factual_json())).delayed(Duration::from_millis(5)),
    )
    .await;
    let mut script = Vec::new();
    for i in 0..60 {
        script.push(match i % 6 {
            0 => Step::status(500, "x"),
            1 => Step::too_many("0"),
            2 => Step::ok("not json".into()),
            3 => Step::ok(openai_completion(r#"{"claims": "nope"}"#)),
            _ => Step::ok(openai_completion(&factual_json())),
        });
    }
    server.push(script);
    let mut provider = openai(&server);
    provider.input_price_per_million = Some(10.0);
    let catalog = Arc::new(catalog_with(vec![provider], None));
    let scorer = judge(&catalog, "hallucination");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let scorer = Arc::clone(&scorer);
        tasks.spawn(async move { scorer.score(&paris(), ScoreOptions::default()).await });
    }
    let mut runs = Vec::new();
    while let Some(run) = tasks.join_next().await {
        runs.push(run.unwrap());
    }
    assert_eq!(runs.len(), 40);
    let requests: u64 = runs.iter().map(|r| r.usage.judge_requests).sum();
    assert_eq!(
        requests,
        server.requests(),
        "every HTTP request is counted once"
    );
    let prompt_tokens: u64 = runs.iter().map(|r| r.usage.prompt_tokens).sum();
    let scored = runs
        .iter()
        .filter(|r| matches!(r.outcome, ScoreOutcome::Scored { .. }))
        .count();
    let unparsable = runs
        .iter()
        .filter(|r| matches!(r.outcome, ScoreOutcome::Unparsable { .. }))
        .count();
    assert_eq!(
        scored + unparsable,
        40,
        "5xx and 429 are retried, never final here"
    );
    // Token usage comes only from completions that were parsed as chat completions.
    assert_eq!(prompt_tokens % 100, 0);
    let cost: f64 = runs.iter().map(|r| r.usage.cost_usd).sum();
    assert!((cost - prompt_tokens as f64 * 10.0 / 1e6).abs() < 1e-12);
}

#[tokio::test]
async fn catalog_without_provider_skips_judges_with_a_reason() {
    let catalog = catalog_with(vec![], None);
    match catalog.resolve("hallucination", &[]) {
        ScorerAvailability::Skipped { reason } => assert!(reason.contains("no judge provider")),
        _ => panic!("expected skipped"),
    }
    assert!(matches!(
        catalog.resolve("empty_output", &[]),
        ScorerAvailability::Ready(_)
    ));
    assert!(matches!(
        catalog.resolve("no_such_scorer", &[]),
        ScorerAvailability::Unknown
    ));
    let defaults = catalog.default_set();
    assert!(
        defaults.contains(&"hallucination".to_owned())
            && defaults.contains(&"answer_relevance".to_owned())
    );
    assert!(defaults.contains(&"grounding".to_owned()));
}

#[tokio::test]
async fn catalog_maps_scorers_to_providers_and_resolves_rubrics() {
    let a = ScriptedServer::start(Step::ok(openai_completion(
        r#"{"reasoning": "fine", "label": "safe"}"#,
    )))
    .await;
    let b = ScriptedServer::start(Step::ok(openai_completion(
        r#"{"reasoning": "meh", "score": 2}"#,
    )))
    .await;
    let mut second = openai(&b);
    second.name = "second".into();
    let mut config = JudgeConfig {
        providers: vec![openai(&a), second],
        ..JudgeConfig::default()
    };
    config.scorers.insert("politeness".into(), "second".into());
    let catalog = JudgeCatalog::with_deterministic_scorers(&config, None).unwrap();
    let rubric = evalguard_domain::project::RubricDefinition {
        name: "politeness".into(),
        criteria: "Is the answer polite?".into(),
        score_min: 1.0,
        score_max: 5.0,
        pass_threshold: 3.0,
        created_at: chrono::Utc::now(),
    };
    let ScorerAvailability::Ready(scorer) =
        catalog.resolve("politeness", std::slice::from_ref(&rubric))
    else {
        panic!("rubric should resolve");
    };
    let run = scorer.score(&paris(), ScoreOptions::default()).await;
    assert_eq!(run.outcome.value(), Some(0.25));
    assert_eq!(scorer.passes(&run.outcome), Some(false));
    assert_eq!(b.requests(), 1);
    let toxicity = judge(&catalog, "toxicity");
    let run = toxicity.score(&paris(), ScoreOptions::default()).await;
    assert_eq!(toxicity.passes(&run.outcome), Some(true));
    assert_eq!(a.requests(), 1);

    let mut bad = config.clone();
    bad.scorers.insert("toxicity".into(), "missing".into());
    assert!(JudgeCatalog::with_deterministic_scorers(&bad, None).is_err());
}

#[tokio::test]
async fn a_missing_key_variable_skips_its_judges() {
    let server = ScriptedServer::start(Step::ok(openai_completion(&factual_json()))).await;
    let mut provider = openai(&server);
    provider.api_key = None;
    provider.api_key_env = Some("EVALGUARD_TEST_SURELY_UNSET_KEY_VAR".into());
    let catalog = catalog_with(vec![provider], None);
    match catalog.resolve("hallucination", &[]) {
        ScorerAvailability::Skipped { reason } => {
            assert!(reason.contains("EVALGUARD_TEST_SURELY_UNSET_KEY_VAR"))
        }
        _ => panic!("expected skipped"),
    }
}

#[test]
fn provider_config_reads_from_toml_and_redacts() {
    let text = r#"
        [[providers]]
        name = "openai"
        kind = "openai"
        base_url = "https://api.openai.com/v1"
        api_key_env = "OPENAI_API_KEY"
        model = "gpt-4o-mini"
        timeout_secs = 30
        max_concurrency = 16
        requests_per_minute = 500
        input_price_per_million = 0.15
        output_price_per_million = 0.6

        [[providers]]
        name = "claude"
        kind = "anthropic"
        base_url = "https://api.anthropic.com"
        api_key_env = "ANTHROPIC_API_KEY"
        model = "claude-haiku"
        structured_output = false

        [scorers]
        toxicity = "claude"
    "#;
    let config: JudgeConfig = toml::from_str(text).unwrap();
    assert_eq!(config.providers.len(), 2);
    assert_eq!(config.providers[0].max_concurrency, 16);
    assert!(config.providers[0].structured_output);
    assert_eq!(config.providers[1].kind, ProviderKind::Anthropic);
    assert_eq!(config.providers[1].timeout_secs, 60);
    assert!(!config.providers[1].structured_output);
    assert_eq!(config.scorers["toxicity"], "claude");
    config.validate().unwrap();
}

#[tokio::test]
async fn identical_judgments_in_flight_are_made_once() {
    // A slow judge: eight identical requests arrive while the first is out.
    let server = ScriptedServer::start(
        Step::ok(openai_completion(&factual_json())).delayed(std::time::Duration::from_millis(300)),
    )
    .await;
    let catalog = catalog_with(vec![openai(&server)], None);
    let scorer = judge(&catalog, "hallucination");
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let scorer = Arc::clone(&scorer);
        calls.spawn(async move { scorer.score(&paris(), ScoreOptions::default()).await });
    }
    let runs = calls.join_all().await;
    assert_eq!(
        server.requests(),
        1,
        "one provider call for eight identical judgments"
    );
    let made: Vec<_> = runs
        .iter()
        .filter(|r| r.usage.judge_requests == 1)
        .collect();
    assert_eq!(made.len(), 1, "exactly one run reports the request");
    for run in &runs {
        assert_eq!(run.outcome, runs[0].outcome);
        assert!(
            matches!(run.outcome, ScoreOutcome::Scored { .. }),
            "{:?}",
            run.outcome
        );
    }
    assert_eq!(runs.iter().map(|r| r.usage.cache_hits).sum::<u64>(), 7);
    // Once made, a different sample is a new judgment.
    let other = scorer
        .score(
            &sample("Lyon.", &["Paris is the capital of France."]),
            ScoreOptions::default(),
        )
        .await;
    assert_eq!(other.usage.judge_requests, 1);
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn an_exhausted_request_budget_holds_the_next_call_until_it_refills() {
    let server = ScriptedServer::start(Step::ok(openai_completion(&factual_json()))).await;
    // The first answer says: no request left, full again in 400 ms (10 a second).
    server.push([Step::ok(openai_completion(&factual_json()))
        .with_header("x-ratelimit-limit-requests", "4")
        .with_header("x-ratelimit-remaining-requests", "0")
        .with_header("x-ratelimit-reset-requests", "400ms")]);
    let catalog = catalog_with(vec![openai(&server)], None);
    let scorer = judge(&catalog, "hallucination");
    let first = scorer.score(&paris(), ScoreOptions::default()).await;
    assert_eq!(first.usage.judge_requests, 1);
    let started = std::time::Instant::now();
    let second = scorer
        .score(
            &sample("Lyon.", &["Paris is the capital of France."]),
            ScoreOptions::default(),
        )
        .await;
    // One request refills in 400 ms / 4 = 100 ms: the call waited for it
    // instead of being refused.
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(90),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(second.usage.judge_requests, 1);
    assert_eq!(
        server
            .state
            .rejected_429
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}
