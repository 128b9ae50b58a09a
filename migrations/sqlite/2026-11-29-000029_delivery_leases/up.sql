-- A delivery being sent holds a lease until `sending_until` (another instance takes it over
-- once the lease passes), so at most two are in flight to the receiver at once; and how
-- long the receiver took to answer its last attempt.
ALTER TABLE outbox ADD COLUMN sending_until TIMESTAMP;
ALTER TABLE outbox ADD COLUMN response_ms INTEGER;
CREATE INDEX outbox_sending ON outbox (sending_until) WHERE sending_until IS NOT NULL;
