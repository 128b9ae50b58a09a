//! The context card's configuration.

use diesel::prelude::*;

use super::DbConnection;
use super::schema::card_attributes;
use super::types::PropertyId;
use crate::domain::card::{Mode, Section};

/// One attribute on the card.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq, Eq)]
#[diesel(table_name = card_attributes)]
pub struct CardAttribute {
    pub id: i64,
    pub property_id: PropertyId,
    pub position: i32,
    #[diesel(deserialize_as = String)]
    pub section: Section,
    #[diesel(deserialize_as = String)]
    pub mode: Mode,
}

/// The card, basic attributes first, each section by position.
pub fn list_card(conn: &mut DbConnection) -> QueryResult<Vec<CardAttribute>> {
    let mut all: Vec<CardAttribute> = card_attributes::table
        .select(CardAttribute::as_select())
        .load(conn)?;
    all.sort_by_key(|a| (a.section != Section::Basic, a.position, a.id));
    Ok(all)
}

/// Replaces the whole card configuration (in the caller's transaction).
pub fn replace_card(
    conn: &mut DbConnection,
    attributes: &[(PropertyId, i32, &str, &str)],
) -> QueryResult<()> {
    diesel::delete(card_attributes::table).execute(conn)?;
    for (property, position, section, mode) in attributes {
        diesel::insert_into(card_attributes::table)
            .values((
                card_attributes::property_id.eq(property),
                card_attributes::position.eq(position),
                card_attributes::section.eq(section),
                card_attributes::mode.eq(mode),
            ))
            .execute(conn)?;
    }
    Ok(())
}
