-- Insights are read from summary rows, never from the customers at request time. A slice
-- is one filter of the Insights page (everyone, a tag, a segment, or both) with its
-- customer filter as JSON; the background worker builds it (a walk over the customers,
-- then one step per week of conversations) into rows named `<slice>#next`, swaps them
-- in whole, rebuilds it daily and refreshes the current week every few minutes.
CREATE TABLE insight_slices (
    slice TEXT PRIMARY KEY NOT NULL,
    filter TEXT NOT NULL,
    phase TEXT NOT NULL DEFAULT 'customers' CHECK (phase IN ('customers', 'weeks', 'ready')),
    cursor BIGINT NOT NULL DEFAULT 0,
    -- The first week of the build (a local date, Monday), fixed while it runs.
    first_week TEXT NOT NULL DEFAULT '',
    built_at TIMESTAMP,
    refreshed_at TIMESTAMP,
    viewed_at TIMESTAMP NOT NULL,
    -- Moves on with every step: a step claims the slice as it read it, so two workers
    -- never do one step twice, and a step begun before a restart is not kept.
    steps BIGINT NOT NULL DEFAULT 0
);

-- One figure of one week: metric is new, active, conversations, rating_1..rating_5,
-- answered, answer_seconds or stage_<lifecycle>; channel '' is every channel.
CREATE TABLE insight_counts (
    slice TEXT NOT NULL,
    week TEXT NOT NULL,
    metric TEXT NOT NULL,
    channel TEXT NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (slice, week, metric, channel)
);

-- A week's conversations, read by start time.
CREATE INDEX conversations_started_idx ON conversations (started_at, id);

-- Everyone's figures are kept from the start.
INSERT INTO insight_slices (slice, filter, viewed_at) VALUES ('all', '{}', CURRENT_TIMESTAMP);
