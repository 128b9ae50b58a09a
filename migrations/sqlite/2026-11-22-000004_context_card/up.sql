-- The customer context card beside each conversation: which properties, in which order,
-- shown at once (basic, at most five) or under "See more" (additional), view or edit.
CREATE TABLE card_attributes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    property_id BIGINT NOT NULL REFERENCES properties (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    section TEXT NOT NULL CHECK (section IN ('basic', 'additional')),
    mode TEXT NOT NULL CHECK (mode IN ('view', 'edit'))
);
CREATE UNIQUE INDEX card_attributes_property_key ON card_attributes (property_id);
CREATE INDEX card_attributes_position_idx ON card_attributes (section, position);

-- A new installation shows name, gender, city and country as basic, view-only attributes.
INSERT INTO card_attributes (property_id, position, section, mode)
SELECT id, position, 'basic', 'view' FROM properties WHERE key IN ('name', 'gender', 'city', 'country');
