//! OTLP ingest: retriever documents and LLM samples of a trace meet whichever
//! is stored first; documents expire; organizations never share them.

use chrono::Duration;
use evalguard_domain::OrgId;
use evalguard_domain::otlp::{RetrievedDocuments, TracedSample};

use crate::fixture::{Db, at, project, sample, target, two_orgs};

const TRACE: &str = "5b8efff798038103d269b633813fc60c";
const OTHER_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";

fn traced(trace: &str, span: &str) -> TracedSample {
    let t = target("bot", "m", "p");
    let mut sample = sample(&format!("{trace}-{span}"), &t, at(0));
    sample.context = vec!["passage".to_owned()];
    TracedSample {
        trace_id: trace.to_owned(),
        sample,
    }
}

fn documents(trace: &str, span: &str, start: u64, docs: &[&str]) -> RetrievedDocuments {
    RetrievedDocuments {
        trace_id: trace.to_owned(),
        span_id: span.to_owned(),
        start_time_unix_nano: start,
        documents: docs.iter().map(|d| (*d).to_owned()).collect(),
    }
}

/// Two organizations, each with the project `bot` (the API stores samples
/// of existing projects only).
async fn orgs_with_bot(db: &Db) -> (OrgId, OrgId) {
    let (a, b) = two_orgs(db).await;
    for org in [a, b] {
        db.projects
            .create_project(org, &project("bot"))
            .await
            .unwrap();
    }
    (a, b)
}

async fn context_of(db: &Db, org: OrgId, id: &str) -> Vec<String> {
    let t = target("bot", "m", "p");
    db.traffic
        .recent_samples(org, &t, 100, None)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.sample.id == id)
        .unwrap_or_else(|| panic!("{id} is not stored"))
        .sample
        .context
}

pub async fn documents_stored_first_become_the_context_of_later_samples(db: &Db) {
    let (a, _) = orgs_with_bot(db).await;
    let now = at(0);
    let keep = now + Duration::minutes(15);
    // Two retrievers, stored out of order: the context follows their start.
    let later = documents(TRACE, "00000000000000b2", 20, &["second"]);
    let earlier = documents(TRACE, "00000000000000b1", 10, &["first", "also first"]);
    let done = db
        .trace_context
        .ingest_traces(a, vec![], vec![later], now, keep)
        .await
        .unwrap();
    assert_eq!((done.stored, done.contexts_updated), (0, 0));
    db.trace_context
        .ingest_traces(a, vec![], vec![earlier], now, keep)
        .await
        .unwrap();
    let samples = [
        traced(TRACE, "00000000000000c1"),
        traced(OTHER_TRACE, "00000000000000c2"),
    ];
    let done = db
        .trace_context
        .ingest_traces(a, samples.to_vec(), vec![], now, keep)
        .await
        .unwrap();
    assert_eq!(done.stored, 2);
    assert_eq!(
        context_of(db, a, &format!("{TRACE}-00000000000000c1")).await,
        ["first", "also first", "second"]
    );
    // A sample of a trace without documents keeps its own context.
    assert_eq!(
        context_of(db, a, &format!("{OTHER_TRACE}-00000000000000c2")).await,
        ["passage"]
    );
    // Sent again: stored once.
    let again = db
        .trace_context
        .ingest_traces(a, samples.to_vec(), vec![], now, keep)
        .await
        .unwrap();
    assert_eq!(again.stored, 0);
}

pub async fn documents_stored_later_update_the_samples_of_their_trace(db: &Db) {
    let (a, b) = orgs_with_bot(db).await;
    let now = at(0);
    let keep = now + Duration::minutes(15);
    let mut bare = traced(TRACE, "00000000000000c1");
    bare.sample.context.clear();
    let untouched = traced(OTHER_TRACE, "00000000000000c2");
    db.trace_context
        .ingest_traces(a, vec![bare.clone(), untouched], vec![], now, keep)
        .await
        .unwrap();
    // The other organization's sample of the same trace id is not touched.
    db.trace_context
        .ingest_traces(b, vec![bare], vec![], now, keep)
        .await
        .unwrap();
    let done = db
        .trace_context
        .ingest_traces(
            a,
            vec![],
            vec![documents(TRACE, "00000000000000b1", 10, &["doc"])],
            now,
            keep,
        )
        .await
        .unwrap();
    assert_eq!(done.contexts_updated, 1);
    let id = format!("{TRACE}-00000000000000c1");
    assert_eq!(context_of(db, a, &id).await, ["doc"]);
    assert!(context_of(db, b, &id).await.is_empty());
    assert_eq!(
        context_of(db, a, &format!("{OTHER_TRACE}-00000000000000c2")).await,
        ["passage"]
    );
    // The same documents again change nothing.
    let again = db
        .trace_context
        .ingest_traces(
            a,
            vec![],
            vec![documents(TRACE, "00000000000000b1", 10, &["doc"])],
            now,
            keep,
        )
        .await
        .unwrap();
    assert_eq!(again.contexts_updated, 0);
}

pub async fn expired_documents_are_not_used(db: &Db) {
    let (a, _) = orgs_with_bot(db).await;
    let stored_at = at(0);
    db.trace_context
        .ingest_traces(
            a,
            vec![],
            vec![documents(TRACE, "00000000000000b1", 10, &["stale"])],
            stored_at,
            stored_at + Duration::minutes(15),
        )
        .await
        .unwrap();
    let later = stored_at + Duration::minutes(16);
    let mut bare = traced(TRACE, "00000000000000c1");
    bare.sample.context.clear();
    db.trace_context
        .ingest_traces(a, vec![bare], vec![], later, later + Duration::minutes(15))
        .await
        .unwrap();
    assert!(
        context_of(db, a, &format!("{TRACE}-00000000000000c1"))
            .await
            .is_empty()
    );
}

/// An LLM span and the retriever span of its trace in concurrent exports, in
/// both orders, many times over: every sample ends with its documents.
pub async fn concurrent_exports_of_a_trace_never_miss_each_other(db: &Db) {
    const TRACES: usize = 60;
    let (a, _) = orgs_with_bot(db).await;
    let now = at(0);
    let keep = now + Duration::minutes(15);
    let mut exports = tokio::task::JoinSet::new();
    for k in 0..TRACES {
        let trace = format!("{:032x}", k + 1);
        let mut llm = traced(&trace, "00000000000000c1");
        llm.sample.context.clear();
        let retriever = documents(&trace, "00000000000000b1", 10, &[&format!("doc {k}")]);
        let samples_only = (vec![llm], Vec::new());
        let documents_only = (Vec::new(), vec![retriever]);
        let (first, second) = if k % 2 == 0 {
            (samples_only, documents_only)
        } else {
            (documents_only, samples_only)
        };
        for (samples, documents) in [first, second] {
            let store = db.trace_context.clone();
            exports.spawn(async move {
                store
                    .ingest_traces(a, samples, documents, now, keep)
                    .await
                    .unwrap()
            });
        }
    }
    while let Some(done) = exports.join_next().await {
        done.unwrap();
    }
    for k in 0..TRACES {
        let id = format!("{:032x}-00000000000000c1", k + 1);
        assert_eq!(context_of(db, a, &id).await, [format!("doc {k}")], "{id}");
    }
}
