-- The hot queries of the benchmarked pages, in the shape the application sends them
-- (values filled in). scripts/bench prints each one's plan on the largest database:
-- EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL. Statements are separated
-- by a line holding "-- name: ..." and end with ";".

-- name: Customers page, default (created this week, newest first)
SELECT id FROM customers WHERE created_at >= '2026-11-23' ORDER BY created_at DESC, id DESC LIMIT 51;

-- name: tag + lifecycle, a popular tag tested row by row along the stage's index
SELECT id FROM customers WHERE EXISTS (SELECT 1 FROM customer_tags WHERE customer_tags.customer_id = customers.id AND customer_tags.tag_id IN (1)) AND lifecycle = 'vip' ORDER BY created_at DESC, id DESC LIMIT 51;

-- name: a total's sample: 250 ids of one window, every condition tested on each row
SELECT COUNT(*) FROM customers WHERE EXISTS (SELECT 1 FROM customer_tags WHERE customer_tags.customer_id = customers.id AND customer_tags.tag_id IN (1)) AND lifecycle = 'vip' AND id BETWEEN 500000 AND 500249;

-- name: stage counters (everyone, one stage)
SELECT customers FROM customer_counts WHERE lifecycle = 'vip';

-- name: fuzzy search, the ids of one word ("contains" is a prefix of a word or of its endings)
SELECT customer_id FROM customer_terms WHERE kind IN (0, 1) AND term >= 'maria' AND term < 'marib' LIMIT 60001;

-- name: fuzzy search, words one typo away
SELECT customer_id FROM customer_terms WHERE kind = 0 AND term IN ('jon', 'jonn', 'john', 'ojnh', 'jonhs') LIMIT 60001;

-- name: fuzzy search, a tier with many matches walked along the sort's index
SELECT id FROM customers WHERE sort_name <> 'maria' AND search_text LIKE '%maria%' ORDER BY created_at DESC, id DESC LIMIT 51;

-- name: fuzzy search, the exact tier
SELECT id FROM customers WHERE sort_name = 'maria garcia' AND (name IS NOT NULL OR nickname IS NOT NULL) ORDER BY created_at DESC, id DESC LIMIT 51;

-- name: fuzzy search by pairs, the matches of two words with each one's creation time
SELECT customer_id, created_at FROM customer_terms WHERE kind = 4 AND term >= 'maria garc' AND term < 'maria gard' LIMIT 5100;

-- name: fuzzy search by pairs, the exact tier's ids (the times come with the pairs)
SELECT id FROM customers WHERE sort_name = 'maria garcia' LIMIT 30001;

-- name: a number property many hold, its values walked newest first on their times' index
SELECT customer_id FROM customer_values WHERE property_id = (SELECT id FROM properties WHERE key = 'score') AND value_number >= 99 ORDER BY created_at DESC, customer_id DESC LIMIT 51;

-- name: a number property between two bounds, walked on the times' index (the number tested as read)
SELECT customer_id FROM customer_values WHERE property_id = (SELECT id FROM properties WHERE key = 'score') AND value_number + 0.0 >= 40 AND value_number + 0.0 <= 60 ORDER BY created_at DESC, customer_id DESC LIMIT 51;

-- name: a page's window: its last customer, the 500th along the creation index, read from the index alone
SELECT id FROM customers ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET 499;

-- name: a property nobody lacks ("is empty"), each customer of the window probed for a value
SELECT id FROM customers WHERE NOT EXISTS (SELECT customer_id FROM customer_values WHERE customer_values.property_id = (SELECT id FROM properties WHERE key = 'score') AND customer_values.customer_id = customers.id) AND created_at >= (SELECT created_at FROM customers ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET 499) ORDER BY created_at DESC, id DESC LIMIT 51;

-- name: never contacted, within the window: the last contact tested on each walked row, not through its index
SELECT id FROM customers WHERE coalesce(last_contact_at, last_contact_at) IS NULL AND created_at >= (SELECT created_at FROM customers ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET 499) ORDER BY created_at DESC, id DESC LIMIT 51;

-- name: e-mail contains a common piece: first tested on the newest 500 customers
SELECT COUNT(*) AS n FROM (SELECT lower(email) AS v FROM customers ORDER BY created_at DESC, id DESC LIMIT 500) newest WHERE v LIKE '%maria.%' ESCAPE '\';

-- name: e-mail contains a common piece: its page walked along the creation index
SELECT id FROM customers WHERE lower(email) LIKE '%maria.%' ESCAPE '\' ORDER BY created_at DESC, id DESC LIMIT 51;

-- name: channel = SMS, tested row by row on (customer_id, channel)
SELECT id FROM customers WHERE EXISTS (SELECT 1 FROM channel_identities WHERE channel_identities.customer_id = customers.id AND channel_identities.channel = 'sms') ORDER BY created_at DESC, id DESC LIMIT 51;

-- name: sort by name, keyset page after a cursor
SELECT id FROM customers WHERE sort_name > 'maria garcia' OR (sort_name = 'maria garcia' AND id > 500000) ORDER BY sort_name ASC, id ASC LIMIT 51;

-- name: profile, the customer by public ID
SELECT id FROM customers WHERE public_id = 'C0500000';

-- name: profile, the customer's conversations, newest first
SELECT id FROM conversations WHERE customer_id = 500000 ORDER BY started_at DESC LIMIT 20;

-- name: conversation page, the customer's conversations before the one shown
SELECT id FROM conversations WHERE customer_id = 500000 AND started_at <= '2026-11-01 00:00:00' AND (started_at < '2026-11-01 00:00:00' OR (started_at = '2026-11-01 00:00:00' AND id < 1000000)) ORDER BY started_at DESC, id DESC LIMIT 21;

-- name: conversation page, an agent's: the one after the shown one that their teams' channels reach
SELECT id FROM conversations WHERE customer_id = 500000 AND channel IN ('whatsapp', 'sms') AND started_at >= '2025-01-01 00:00:00' AND (started_at > '2025-01-01 00:00:00' OR (started_at = '2025-01-01 00:00:00' AND id > 1)) ORDER BY started_at, id LIMIT 1;

-- name: conversation page, an unknown contact's conversations after the one shown
SELECT id FROM conversations WHERE identity_id = 1000 AND started_at >= '2026-01-01 00:00:00' AND (started_at > '2026-01-01 00:00:00' OR (started_at = '2026-01-01 00:00:00' AND id > 1)) ORDER BY started_at, id LIMIT 20;

-- name: profile, the customer's identities
SELECT id FROM channel_identities WHERE customer_id = 500000;

-- name: messages tab, newest first
SELECT id FROM messages WHERE customer_id = 500000 ORDER BY id DESC LIMIT 50;

-- name: a team's queue, one channel walked newest first
SELECT id FROM conversations WHERE status = 'open' AND channel = 'whatsapp' ORDER BY last_message_at DESC LIMIT 51;
