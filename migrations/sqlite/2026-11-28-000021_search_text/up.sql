-- The words a customer's name and nickname fold to, one space before and after each
-- (" maria juric "), so a search word many customers match is tested on the row as it
-- walks the sort's index (`LIKE '%mar%'` for "contains", `LIKE '% mario %'` for a whole
-- word one typo away) instead of collecting tens of thousands of ids first.
ALTER TABLE customers ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
-- A customer with a name and no nickname has the folded name as sort key already: these
-- rows are done here (the search rules' version 2). The others are left at version 1 and
-- the background indexer fills them; their search terms stay as they are.
UPDATE customers SET search_text = ' ' || sort_name || ' ', search_version = 2
WHERE search_version = 1 AND name IS NOT NULL AND nickname IS NULL AND sort_name <> '';
UPDATE customers SET search_version = 2
WHERE search_version = 1 AND name IS NULL AND nickname IS NULL;
