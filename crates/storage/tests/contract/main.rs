//! The storage contract: every case is written once against `Storage` and
//! run on both backends. PostgreSQL cases need `EVALGUARD_TEST_POSTGRES_URL`
//! (each gets a fresh database); without it they print a notice and pass,
//! except under CI (`CI` set), where a missing database fails them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod concurrent_enqueues;
mod dashboard;
mod fixture;
mod jobs;
mod leases;
mod people;
mod results;
mod retention;
mod trace_context;
mod traffic;
mod webhooks;

/// Generates, per case, `on_sqlite::<case>` and `on_postgres::<case>`.
macro_rules! contract_tests {
    ($($module:ident :: $case:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let db = crate::fixture::sqlite().await;
                    crate::$module::$case(&db).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let Some(db) = crate::fixture::postgres().await else { return };
                    crate::$module::$case(&db).await;
                }
            )*
        }
    };
}

contract_tests! {
    access::orgs_are_created_once_by_name,
    access::api_keys_are_created_found_touched_and_revoked,
    access::projects_are_unique_per_org_and_isolated,
    access::rubrics_are_upserted_listed_and_deleted,
    traffic::samples_round_trip_every_field,
    traffic::inserts_are_idempotent_on_sample_id,
    traffic::a_failing_batch_stores_nothing,
    traffic::large_batches_span_statements,
    traffic::recent_samples_are_newest_first_and_page_with_older_than,
    traffic::window_is_half_open,
    traffic::deployments_summarise_models_of_a_prompt,
    traffic::samples_by_key_keep_the_requested_order,
    traffic::orgs_never_see_each_others_traffic,
    trace_context::documents_stored_first_become_the_context_of_later_samples,
    trace_context::documents_stored_later_update_the_samples_of_their_trace,
    trace_context::expired_documents_are_not_used,
    trace_context::concurrent_exports_of_a_trace_never_miss_each_other,
    jobs::enqueue_honours_idempotency_keys_per_org,
    jobs::enqueue_refuses_a_key_reused_with_another_request,
    jobs::jobs_are_isolated_between_orgs,
    jobs::list_is_newest_first_with_filters_and_cursor,
    jobs::cancel_makes_a_job_terminal_once,
    jobs::queue_depth_counts_by_status,
    jobs::plans_are_saved_once,
    concurrent_enqueues::concurrent_enqueues_each_get_their_own_answer,
    leases::one_job_is_claimed_by_exactly_one_of_many_workers,
    leases::claims_take_the_oldest_runnable_job,
    leases::an_expired_lease_is_reclaimed_with_a_new_attempt,
    leases::heartbeats_report_held_cancelled_or_lost,
    leases::only_the_holder_finishes_and_only_once,
    leases::released_jobs_are_queued_again,
    leases::progress_is_written_by_the_holder_only,
    results::results_are_kept_once_per_sample_and_role,
    results::list_results_pages_current_results,
    results::judge_verdicts_are_cached,
    results::judge_verdicts_are_written_in_batches,
    webhooks::events_fan_out_to_subscribed_endpoints,
    webhooks::deliveries_are_leased_and_retried,
    webhooks::endpoints_are_isolated_between_orgs,
    webhooks::finishing_a_job_queues_its_events,
    retention::old_traffic_is_swept_in_batches,
    retention::a_projects_traffic_is_deleted_by_id_or_time_range,
    retention::results_of_old_finished_jobs_are_swept,
    retention::old_verdicts_and_finished_deliveries_are_swept,
    retention::ingest_keys_are_forgotten_after_their_window,
    people::users_are_unique_by_email_and_isolated,
    people::sessions_end_at_sign_out_disable_and_password_change,
    people::expired_sessions_are_deleted,
    people::the_setup_token_creates_one_first_owner,
    people::targets_are_counted_at_ingest_without_duplicates,
    dashboard::score_distributions_count_bins_means_and_labels,
    dashboard::target_trends_are_the_latest_succeeded_jobs_per_target,
}
