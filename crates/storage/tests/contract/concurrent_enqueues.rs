//! Many enqueues at once, as the trigger endpoint sees them under load. On
//! SQLite they share one transaction (group commit, each in a savepoint); on
//! both databases each caller must get its own answer, and one enqueue's
//! failure must not touch the others.

use std::sync::Arc;

use evalguard_domain::job::JobStatus;
use evalguard_storage::{JobFilter, NewJob, StorageError};
use tokio::task::JoinSet;

use crate::fixture::{Db, new_job, target, two_orgs};

/// What each concurrent enqueue is, to check its answer against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Fresh,
    SameKeySameBody,
    SameKeyOtherBody,
    TakenId,
    Twin,
}

pub async fn concurrent_enqueues_each_get_their_own_answer(db: &Db) {
    let (a, _) = two_orgs(db).await;
    let t = target("bot", "m", "p");
    let taken = new_job(a, &t, Some("taken"));
    let (taken_job, created) = db.jobs.enqueue(taken.clone()).await.unwrap();
    assert!(created);

    let mut jobs: Vec<(Kind, NewJob)> = (0..40)
        .map(|i| (Kind::Fresh, new_job(a, &t, Some(&format!("fresh-{i}")))))
        .collect();
    jobs.push((Kind::SameKeySameBody, new_job(a, &t, Some("taken"))));
    let mut other_body = new_job(a, &t, Some("taken"));
    other_body.request.sample_count += 1;
    jobs.push((Kind::SameKeyOtherBody, other_body));
    let mut taken_id = new_job(a, &t, None);
    taken_id.id = taken.id;
    jobs.push((Kind::TakenId, taken_id));
    jobs.push((Kind::Twin, new_job(a, &t, Some("twin"))));
    jobs.push((Kind::Twin, new_job(a, &t, Some("twin"))));
    // Interleave the failing ones among the fresh ones, as they would arrive.
    jobs.rotate_left(20);

    let store = Arc::clone(&db.jobs);
    let mut running = JoinSet::new();
    for (kind, job) in jobs {
        let store = Arc::clone(&store);
        running.spawn(async move { (kind, job.clone(), store.enqueue(job).await) });
    }
    let mut twins = Vec::new();
    let mut fresh = 0;
    while let Some(done) = running.join_next().await {
        let (kind, sent, answer) = done.unwrap();
        match kind {
            Kind::Fresh => {
                let (job, created) = answer.unwrap();
                assert!(created);
                assert_eq!(job.id, sent.id);
                assert_eq!(job.status, JobStatus::Queued);
                fresh += 1;
            }
            Kind::SameKeySameBody => assert_eq!(answer.unwrap(), (taken_job.clone(), false)),
            Kind::SameKeyOtherBody => {
                let err = answer.unwrap_err();
                assert!(matches!(err, StorageError::IdempotencyKeyReused), "{err:?}");
            }
            Kind::TakenId => {
                let err = answer.unwrap_err();
                assert!(matches!(err, StorageError::Conflict(_)), "{err:?}");
            }
            Kind::Twin => twins.push((sent.id, answer.unwrap())),
        }
    }
    assert_eq!(fresh, 40);
    // One twin created the job; the other got that same job back.
    assert_eq!(twins.len(), 2);
    let created: Vec<_> = twins.iter().filter(|(_, (_, new))| *new).collect();
    assert_eq!(created.len(), 1, "{twins:?}");
    let (creator_id, _) = created[0];
    assert!(twins.iter().all(|(_, (job, _))| job.id == *creator_id));

    // Stored: the first job, the 40 fresh ones and one twin; nothing of the failures.
    let filter = JobFilter {
        limit: 1000,
        ..JobFilter::default()
    };
    let stored = db.jobs.list_jobs(a, &filter).await.unwrap();
    assert_eq!(stored.len(), 42);
    let first = stored.iter().find(|job| job.id == taken.id).unwrap();
    assert_eq!(first, &taken_job);
}
