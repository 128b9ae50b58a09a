DROP INDEX jobs_finished_idx;
DROP INDEX self_service_links_expiry_idx;
DROP INDEX channel_identities_unknown_seen_idx;
DROP INDEX audit_log_actor_idx;
DROP INDEX audit_log_action_idx;
