-- How many conversations are open on each channel and account, kept by triggers on every
-- write of `conversations` whatever the path (inbound, agents, API, merge, erasure,
-- retention, generator): the workspace's count of the whole queue, and of a team's
-- channels, is read from a few rows instead of walking up to a thousand open
-- conversations on every workspace and conversation page. A live queue keeps its rows'
-- table pages busy, so that walk could not stay in the index (0.6–0.9 ms at 7,790 open
-- conversations among two million).
-- Inserts and deletes count per statement: a batch of rows changes each count once.
CREATE TABLE open_conversations (
    channel TEXT NOT NULL,
    account TEXT NOT NULL,
    conversations BIGINT NOT NULL,
    PRIMARY KEY (channel, account)
);
INSERT INTO open_conversations (channel, account, conversations)
    SELECT channel, account, COUNT(*) FROM conversations WHERE status = 'open'
    GROUP BY channel, account;

CREATE FUNCTION open_conversations_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO open_conversations (channel, account, conversations)
        SELECT channel, account, COUNT(*) FROM added WHERE status = 'open'
        GROUP BY channel, account ORDER BY channel, account
        ON CONFLICT (channel, account)
        DO UPDATE SET conversations = open_conversations.conversations + EXCLUDED.conversations;
    RETURN NULL;
END $$;

CREATE FUNCTION open_conversations_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE open_conversations o SET conversations = o.conversations - r.n
        FROM (SELECT channel, account, COUNT(*) AS n FROM removed WHERE status = 'open'
              GROUP BY channel, account) r
        WHERE o.channel = r.channel AND o.account = r.account;
    RETURN NULL;
END $$;

CREATE FUNCTION open_conversations_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'open' THEN
        UPDATE open_conversations SET conversations = conversations - 1
            WHERE channel = OLD.channel AND account = OLD.account;
    END IF;
    IF NEW.status = 'open' THEN
        INSERT INTO open_conversations (channel, account, conversations)
            VALUES (NEW.channel, NEW.account, 1)
            ON CONFLICT (channel, account)
            DO UPDATE SET conversations = open_conversations.conversations + 1;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER open_conversations_insert AFTER INSERT ON conversations
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION open_conversations_added();
CREATE TRIGGER open_conversations_delete AFTER DELETE ON conversations
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION open_conversations_removed();
-- Only opening, closing or moving a conversation moves a count (a message only touches
-- its times and counters).
CREATE TRIGGER open_conversations_status AFTER UPDATE OF status, channel, account ON conversations
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                       OR OLD.channel IS DISTINCT FROM NEW.channel
                       OR OLD.account IS DISTINCT FROM NEW.account)
    EXECUTE FUNCTION open_conversations_moved();
