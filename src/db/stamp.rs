//! Times read from SQLite without diesel's general parser. SQLite keeps a timestamp as text
//! ("2026-12-01 08:30:00.123456", the way this service writes it); diesel reads it by
//! trying up to eighteen `strftime` patterns, each parsed again on every value. A list
//! page reads a few hundred times, and that parsing was a sixteenth of its CPU at a
//! million customers (2026-12-01). [`Stamp`] reads the service's own layout by hand and
//! hands anything else to diesel; PostgreSQL's binary timestamps go to diesel as before.
//!
//! A row type opts in per field: `#[diesel(deserialize_as = Stamp)]` on a
//! `NaiveDateTime`, `#[diesel(deserialize_as = MaybeStamp)]` on an
//! `Option<NaiveDateTime>`.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::sql_types::{Nullable, Timestamp};
use diesel::sqlite::Sqlite;

use super::MultiBackend;

/// A `TIMESTAMP` column's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub struct Stamp(pub NaiveDateTime);

/// A nullable `TIMESTAMP` column's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub struct MaybeStamp(pub Option<NaiveDateTime>);

impl From<Stamp> for NaiveDateTime {
    fn from(stamp: Stamp) -> NaiveDateTime {
        stamp.0
    }
}

impl From<MaybeStamp> for Option<NaiveDateTime> {
    fn from(stamp: MaybeStamp) -> Option<NaiveDateTime> {
        stamp.0
    }
}

/// "YYYY-MM-DD HH:MM:SS" with an optional fraction of up to nine digits; `None` for any
/// other text (diesel's parser then reads it, or says why it cannot).
fn parse(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19
        || b.len() == 20
        || b.len() > 29
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0_u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(number(&b[0..4])?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, number(&b[5..7])?, number(&b[8..10])?)?;
    let nanos = match b.get(19) {
        None => 0,
        Some(b'.') => {
            let fraction = &b[20..];
            number(fraction)? * 10_u32.pow(9 - u32::try_from(fraction.len()).ok()?)
        }
        Some(_) => return None,
    };
    let second = number(&b[17..19])?;
    // A leap second ("…:60") is left to diesel's parser, which knows chrono's convention.
    if second > 59 {
        return None;
    }
    date.and_hms_nano_opt(number(&b[11..13])?, number(&b[14..16])?, second, nanos)
}

impl FromSql<Timestamp, Sqlite> for Stamp {
    fn from_sql(mut value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        // Reading the text again (diesel's parser does) converts nothing twice: a value
        // SQLite stored as a number (a Julian day) reads as its digits both times.
        if let Some(time) = parse(value.read_text()) {
            return Ok(Stamp(time));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Stamp)
    }
}

impl FromSql<Timestamp, Pg> for Stamp {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Stamp)
    }
}

impl FromSql<Timestamp, MultiBackend> for Stamp {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

impl<DB: Backend> FromSql<Nullable<Timestamp>, DB> for MaybeStamp
where
    Stamp: FromSql<Timestamp, DB>,
{
    fn from_sql(value: DB::RawValue<'_>) -> deserialize::Result<Self> {
        <Stamp as FromSql<Timestamp, DB>>::from_sql(value).map(|s| MaybeStamp(Some(s.0)))
    }

    fn from_nullable_sql(value: Option<DB::RawValue<'_>>) -> deserialize::Result<Self> {
        match value {
            Some(value) => Self::from_sql(value),
            None => Ok(MaybeStamp(None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%F %T%.f").expect("a valid time")
    }

    #[test]
    fn the_service_s_own_layouts_are_read_by_hand() {
        for text in [
            "2026-12-01 08:30:00",
            "2026-12-01 08:30:00.5",
            "2026-12-01 08:30:00.123456",
            "2026-12-01 08:30:00.123456789",
            "0001-01-01 00:00:00",
            "2024-02-29 23:59:59.999",
        ] {
            assert_eq!(parse(text), Some(at(text)), "{text}");
        }
    }

    #[test]
    fn anything_else_is_left_to_the_general_parser() {
        for text in [
            "2026-12-01T08:30:00",
            "2026-12-01 08:30",
            "2026-12-01 08:30:00.",
            "2026-12-01 08:30:00+02:00",
            "2026-12-01 08:30:00.1234567890",
            "2026-02-30 08:30:00",
            "2026-12-01 24:00:00",
            "2016-12-31 23:59:60",
            "+2026-12-01 08:30:0",
            "2026-1a-01 08:30:00",
            "",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[test]
    fn sqlite_values_read_whatever_layout_they_were_stored_in() {
        use diesel::prelude::*;
        use diesel::sql_types::Text;

        let mut conn = diesel::SqliteConnection::establish(":memory:").expect("in memory");
        let read = |conn: &mut diesel::SqliteConnection, sql: &str| {
            diesel::select(diesel::dsl::sql::<Nullable<Timestamp>>(sql))
                .get_result::<MaybeStamp>(conn)
                .map(|s| s.0)
        };
        let expected = Some(at("2026-12-01 08:30:00.25"));
        assert_eq!(
            read(&mut conn, "'2026-12-01 08:30:00.25'").ok(),
            Some(expected)
        );
        // Written by something else: ISO 8601 with a T, and a Julian day.
        assert_eq!(
            read(&mut conn, "'2026-12-01T08:30:00.25'").ok(),
            Some(expected)
        );
        let julian = read(&mut conn, "julianday('2026-12-01 08:30:00')")
            .expect("a Julian day")
            .expect("not null");
        // A day's fraction in a double: within a millisecond, as diesel reads it.
        let off = julian - at("2026-12-01 08:30:00");
        assert!(off.num_milliseconds().abs() < 1, "{julian}");
        assert_eq!(read(&mut conn, "NULL").ok(), Some(None));
        assert!(read(&mut conn, "'yesterday'").is_err());
        let stamp = diesel::select(diesel::dsl::sql::<Text>("'2026-12-01 08:30:00'"))
            .get_result::<String>(&mut conn)
            .expect("text");
        assert_eq!(parse(&stamp), Some(at("2026-12-01 08:30:00")));
    }
}
