//! Projects and their settings: scorer set, thresholds and rubric scorers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::ProjectId;
use crate::job::Thresholds;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Project {
    #[schema(value_type = String)]
    pub id: ProjectId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub settings: ProjectSettings,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProjectSettings {
    /// The scorers a job runs when its request names none; `None` = the default set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scorers: Option<Vec<String>>,
    #[serde(default)]
    pub thresholds: Thresholds,
}

/// A user-defined G-Eval style judge: criteria text, a score range and a pass threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RubricDefinition {
    pub name: String,
    pub criteria: String,
    pub score_min: f64,
    pub score_max: f64,
    /// On the rubric's own scale; a score below it fails.
    pub pass_threshold: f64,
    pub created_at: DateTime<Utc>,
}
