DROP INDEX outbox_sending;
ALTER TABLE outbox DROP COLUMN response_ms;
ALTER TABLE outbox DROP COLUMN sending_until;
