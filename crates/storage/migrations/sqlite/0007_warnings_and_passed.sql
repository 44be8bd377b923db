-- What leaves a finished job's evidence incomplete (JSON list of warnings),
-- and, per result, whether each score passed its scorer's threshold (JSON
-- object scorer -> bool; scorers without a threshold are absent).
ALTER TABLE jobs ADD COLUMN warnings TEXT NOT NULL DEFAULT '[]';
ALTER TABLE job_results ADD COLUMN passed TEXT NOT NULL DEFAULT '{}';
