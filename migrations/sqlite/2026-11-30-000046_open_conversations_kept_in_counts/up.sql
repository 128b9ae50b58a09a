-- How many conversations are open on each channel and account, kept by triggers on every
-- write of `conversations` whatever the path (inbound, agents, API, merge, erasure,
-- retention, generator): the workspace's count of the whole queue, and of a team's
-- channels, is read from a few rows instead of walking up to a thousand open
-- conversations on every workspace and conversation page.
CREATE TABLE open_conversations (
    channel TEXT NOT NULL,
    account TEXT NOT NULL,
    conversations BIGINT NOT NULL,
    PRIMARY KEY (channel, account)
);
INSERT INTO open_conversations (channel, account, conversations)
    SELECT channel, account, COUNT(*) FROM conversations WHERE status = 'open'
    GROUP BY channel, account;

CREATE TRIGGER open_conversations_insert AFTER INSERT ON conversations
    WHEN NEW.status = 'open'
BEGIN
    INSERT INTO open_conversations (channel, account, conversations)
        VALUES (NEW.channel, NEW.account, 1)
        ON CONFLICT (channel, account) DO UPDATE SET conversations = conversations + 1;
END;

CREATE TRIGGER open_conversations_delete AFTER DELETE ON conversations
    WHEN OLD.status = 'open'
BEGIN
    UPDATE open_conversations SET conversations = conversations - 1
        WHERE channel = OLD.channel AND account = OLD.account;
END;

-- Only opening, closing or moving a conversation moves a count (a message only touches
-- its times and counters).
CREATE TRIGGER open_conversations_status AFTER UPDATE OF status, channel, account ON conversations
    WHEN (OLD.status = 'open' OR NEW.status = 'open')
     AND (OLD.status <> NEW.status OR OLD.channel <> NEW.channel OR OLD.account <> NEW.account)
BEGIN
    UPDATE open_conversations SET conversations = conversations - 1
        WHERE OLD.status = 'open' AND channel = OLD.channel AND account = OLD.account;
    INSERT INTO open_conversations (channel, account, conversations)
        SELECT NEW.channel, NEW.account, 1 WHERE NEW.status = 'open'
        ON CONFLICT (channel, account) DO UPDATE SET conversations = conversations + 1;
END;
