-- SQLite already accepts given ids in an AUTOINCREMENT column (and moves its counter past
-- them); this migration exists so both backends have the same list.
SELECT 1;
