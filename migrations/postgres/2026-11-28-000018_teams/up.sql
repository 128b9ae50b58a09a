-- Teams: agents grouped to work some channels (or some accounts of a channel). An agent in
-- a team sees only its conversations and the customers reachable through them; with no team
-- defined, everyone sees everything.
CREATE TABLE teams (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX teams_name_key ON teams (name_key);

CREATE TABLE team_members (
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user_idx ON team_members (user_id);

-- A team's channels: `account` empty means every account of the channel.
CREATE TABLE team_channels (
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    account TEXT NOT NULL,
    PRIMARY KEY (team_id, channel, account)
);

-- The business account a conversation came in on (a WhatsApp number, a mailbox, a page);
-- empty when the channel has one account or the integration does not say.
ALTER TABLE conversations ADD COLUMN account TEXT NOT NULL DEFAULT '';

-- A team's queue walks each of its channels newest first; an agent's reach of a customer
-- is tested on their identities' channels.
CREATE INDEX conversations_channel_queue_idx ON conversations (status, channel, last_message_at);
CREATE INDEX channel_identities_customer_channel_idx ON channel_identities (customer_id, channel);
