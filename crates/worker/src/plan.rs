//! A job's plan: which samples it scores on each side and with which scorers.
//! Made once, when the job first runs, and stored, so that a resumed job
//! scores exactly the same set.

use std::collections::BTreeMap;
use std::sync::Arc;

use evalguard_domain::OrgId;
use evalguard_domain::job::{AutoEvalRequest, BaselineInfo, BaselineSpec, Target};
use evalguard_domain::project::RubricDefinition;
use evalguard_domain::scoring::{Scorer, ScorerAvailability, ScorerCatalog};
use evalguard_storage::{JobPlan, Storage, StorageError, StoredSample};

use crate::samples::LoadedSamples;

/// The plan of a job, or the reason it cannot have one.
pub(crate) enum Planned {
    /// The plan, with the samples read while making it (none when it was loaded).
    Ready(Box<JobPlan>, LoadedSamples),
    /// The target has no samples at all.
    NoSamples,
}

/// Loads the stored plan, or makes and stores one. When two runs race, the
/// first stored plan wins and is the one returned.
pub(crate) async fn load_or_make_plan(
    storage: &Storage,
    catalog: &dyn ScorerCatalog,
    org: OrgId,
    job: evalguard_domain::JobId,
    request: &AutoEvalRequest,
) -> Result<Planned, StorageError> {
    if let Some(plan) = storage.jobs.load_plan(job).await? {
        return Ok(Planned::Ready(Box::new(plan), LoadedSamples::default()));
    }
    let target = &request.target;
    let current = storage
        .traffic
        .recent_samples(org, target, request.sample_count, None)
        .await?;
    if current.is_empty() {
        return Ok(Planned::NoSamples);
    }
    let (baseline, baseline_info) = choose_baseline(storage, org, request, &current).await?;
    let names = scorer_names(storage, catalog, org, request).await?;
    let rubrics = storage
        .projects
        .list_rubrics(org, &target.project_id)
        .await?;
    let resolved = resolve_scorers(catalog, &names, &rubrics);
    let plan = JobPlan {
        current: keys(&current),
        baseline: keys(&baseline),
        baseline_info,
        scorers: resolved.ready.iter().map(|s| s.name().to_owned()).collect(),
        skipped: resolved.skipped,
    };
    let stored = storage.jobs.save_plan(job, &plan).await?;
    let mut loaded = LoadedSamples::default();
    // Another run may have stored its plan first; its samples are then read on demand.
    if stored == plan {
        loaded.extend(current);
        loaded.extend(baseline);
    }
    Ok(Planned::Ready(Box::new(stored), loaded))
}

/// The request's scorers, else the project's, else the catalog's default set.
async fn scorer_names(
    storage: &Storage,
    catalog: &dyn ScorerCatalog,
    org: OrgId,
    request: &AutoEvalRequest,
) -> Result<Vec<String>, StorageError> {
    if let Some(names) = &request.scorers {
        return Ok(names.clone());
    }
    let project = storage
        .projects
        .get_project(org, &request.target.project_id)
        .await?;
    Ok(project
        .and_then(|p| p.settings.scorers)
        .unwrap_or_else(|| catalog.default_set()))
}

/// Scorers that can run, and the others with the reason they cannot.
pub(crate) struct ResolvedScorers {
    pub ready: Vec<Arc<dyn Scorer>>,
    pub skipped: BTreeMap<String, String>,
}

pub(crate) fn resolve_scorers(
    catalog: &dyn ScorerCatalog,
    names: &[String],
    rubrics: &[RubricDefinition],
) -> ResolvedScorers {
    let mut ready: Vec<Arc<dyn Scorer>> = Vec::new();
    let mut skipped = BTreeMap::new();
    for name in names {
        if ready.iter().any(|s| s.name() == name) || skipped.contains_key(name) {
            continue;
        }
        match catalog.resolve(name, rubrics) {
            ScorerAvailability::Ready(scorer) => ready.push(scorer),
            ScorerAvailability::Skipped { reason } => {
                skipped.insert(name.clone(), reason);
            }
            ScorerAvailability::Unknown => {
                skipped.insert(name.clone(), format!("no scorer is named {name:?}"));
            }
        }
    }
    ResolvedScorers { ready, skipped }
}

fn keys(samples: &[StoredSample]) -> Vec<i64> {
    samples.iter().map(|s| s.key).collect()
}

fn no_baseline(reason: &str) -> BaselineInfo {
    BaselineInfo {
        kind: "none".to_owned(),
        model: None,
        prompt_id: None,
        from: None,
        to: None,
        n: 0,
        reason: Some(reason.to_owned()),
    }
}

/// Chooses the baseline: the request's, else the previous deployment of the
/// same prompt, else the earlier window of the same target, else none.
pub(crate) async fn choose_baseline(
    storage: &Storage,
    org: OrgId,
    request: &AutoEvalRequest,
    current: &[StoredSample],
) -> Result<(Vec<StoredSample>, BaselineInfo), StorageError> {
    let target = &request.target;
    let limit = request.sample_count;
    match &request.baseline {
        Some(BaselineSpec::Deployment { model, prompt_id }) => {
            let other = Target {
                model: model.clone(),
                prompt_id: prompt_id.clone(),
                project_id: target.project_id.clone(),
            };
            let samples = storage
                .traffic
                .recent_samples(org, &other, limit, None)
                .await?;
            let info = BaselineInfo {
                kind: "deployment".to_owned(),
                model: Some(model.clone()),
                prompt_id: Some(prompt_id.clone()),
                from: None,
                to: None,
                n: samples.len() as u64,
                reason: samples
                    .is_empty()
                    .then(|| "the requested baseline deployment has no samples".to_owned()),
            };
            return Ok((samples, info));
        }
        Some(BaselineSpec::Window { from, to }) => {
            let samples = storage
                .traffic
                .samples_in_window(org, target, *from, *to, limit)
                .await?;
            let info = BaselineInfo {
                kind: "window".to_owned(),
                model: Some(target.model.clone()),
                prompt_id: Some(target.prompt_id.clone()),
                from: Some(*from),
                to: Some(*to),
                n: samples.len() as u64,
                reason: samples.is_empty().then(|| {
                    "the requested baseline window has no samples of this target".to_owned()
                }),
            };
            return Ok((samples, info));
        }
        None => {}
    }

    if let Some(model) = previous_deployment(storage, org, target, current).await? {
        let other = Target {
            model: model.clone(),
            prompt_id: target.prompt_id.clone(),
            project_id: target.project_id.clone(),
        };
        let samples = storage
            .traffic
            .recent_samples(org, &other, limit, None)
            .await?;
        if !samples.is_empty() {
            let info = BaselineInfo {
                kind: "deployment".to_owned(),
                model: Some(model),
                prompt_id: Some(target.prompt_id.clone()),
                from: None,
                to: None,
                n: samples.len() as u64,
                reason: None,
            };
            return Ok((samples, info));
        }
    }

    // Samples come newest first: the last one is the oldest current sample.
    let Some(oldest) = current.last() else {
        return Ok((Vec::new(), no_baseline("no current samples")));
    };
    let earlier = storage
        .traffic
        .recent_samples(
            org,
            target,
            limit,
            Some((oldest.sample.timestamp, oldest.key)),
        )
        .await?;
    if earlier.is_empty() {
        return Ok((
            Vec::new(),
            no_baseline(
                "no other model served this prompt before the target, and the target has no samples older than the current ones",
            ),
        ));
    }
    let info = BaselineInfo {
        kind: "earlier_window".to_owned(),
        model: Some(target.model.clone()),
        prompt_id: Some(target.prompt_id.clone()),
        from: earlier.iter().map(|s| s.sample.timestamp).min(),
        to: earlier.iter().map(|s| s.sample.timestamp).max(),
        n: earlier.len() as u64,
        reason: None,
    };
    Ok((earlier, info))
}

/// Among the other models of the same project and prompt whose traffic began
/// before the target's first sample, the one whose traffic began last.
async fn previous_deployment(
    storage: &Storage,
    org: OrgId,
    target: &Target,
    current: &[StoredSample],
) -> Result<Option<String>, StorageError> {
    let deployments = storage
        .traffic
        .deployments(org, &target.project_id, &target.prompt_id)
        .await?;
    let oldest_current = current.iter().map(|s| s.sample.timestamp).min();
    let target_began = deployments
        .iter()
        .find(|d| d.model == target.model)
        .map(|d| d.first_seen)
        .or(oldest_current);
    let Some(target_began) = target_began else {
        return Ok(None);
    };
    Ok(deployments
        .into_iter()
        .filter(|d| d.model != target.model && d.first_seen < target_began)
        .max_by(|a, b| {
            a.first_seen
                .cmp(&b.first_seen)
                .then_with(|| a.model.cmp(&b.model))
        })
        .map(|d| d.model))
}
