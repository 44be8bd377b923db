//! Decision thresholds with their defaults filled in.

use crate::job::Thresholds;

pub const DEFAULT_ALPHA: f64 = 0.05;
pub const DEFAULT_MIN_EFFECT: f64 = 0.05;
pub const DEFAULT_HALLUCINATION_RATE: f64 = 0.05;
pub const DEFAULT_DRIFT_FDR: f64 = 0.05;
pub const DEFAULT_DRIFT_DISTANCE: f64 = 0.1;

/// The thresholds a job decides with: the request's, else the project's, else the defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResolvedThresholds {
    pub alpha: f64,
    pub min_effect: f64,
    pub hallucination_rate: f64,
    pub drift_fdr: f64,
    pub drift_distance: f64,
}

impl Default for ResolvedThresholds {
    fn default() -> Self {
        Self {
            alpha: DEFAULT_ALPHA,
            min_effect: DEFAULT_MIN_EFFECT,
            hallucination_rate: DEFAULT_HALLUCINATION_RATE,
            drift_fdr: DEFAULT_DRIFT_FDR,
            drift_distance: DEFAULT_DRIFT_DISTANCE,
        }
    }
}

impl ResolvedThresholds {
    /// Field by field: the request's value, else the project's, else the default.
    #[allow(clippy::should_implement_trait)]
    pub fn from(request: Option<&Thresholds>, project: &Thresholds) -> Self {
        let pick = |req: Option<f64>, proj: Option<f64>, default: f64| {
            req.or(proj)
                .filter(|x| x.is_finite() && *x > 0.0 && *x < 1.0)
                .unwrap_or(default)
        };
        let req = request.cloned().unwrap_or_default();
        Self {
            alpha: pick(req.alpha, project.alpha, DEFAULT_ALPHA),
            min_effect: pick(req.min_effect, project.min_effect, DEFAULT_MIN_EFFECT),
            hallucination_rate: pick(
                req.hallucination_rate,
                project.hallucination_rate,
                DEFAULT_HALLUCINATION_RATE,
            ),
            drift_fdr: pick(req.drift_fdr, project.drift_fdr, DEFAULT_DRIFT_FDR),
            drift_distance: pick(
                req.drift_distance,
                project.drift_distance,
                DEFAULT_DRIFT_DISTANCE,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_beats_project_beats_default() {
        let project = Thresholds {
            alpha: Some(0.01),
            min_effect: Some(0.1),
            ..Thresholds::default()
        };
        let request = Thresholds {
            alpha: Some(0.02),
            ..Thresholds::default()
        };
        let t = ResolvedThresholds::from(Some(&request), &project);
        assert_eq!(t.alpha, 0.02);
        assert_eq!(t.min_effect, 0.1);
        assert_eq!(t.hallucination_rate, DEFAULT_HALLUCINATION_RATE);
        assert_eq!(
            ResolvedThresholds::from(None, &Thresholds::default()),
            ResolvedThresholds::default()
        );
    }
}
