-- The audit log screen filters by what and by whom, newest first.
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id);
-- Retention: unknown contacts by when they last wrote; ended self-service links.
CREATE INDEX channel_identities_unknown_seen_idx ON channel_identities (last_seen_at) WHERE customer_id IS NULL;
CREATE INDEX self_service_links_expiry_idx ON self_service_links (expires_at);
CREATE INDEX jobs_finished_idx ON jobs (finished_at) WHERE finished_at IS NOT NULL;
