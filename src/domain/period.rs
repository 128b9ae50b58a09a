//! Time periods of the Customers page, in the organisation's time zone (weeks start on
//! Monday), turned into UTC bounds for queries.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike};
use chrono_tz::Tz;

/// A period to filter by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Since midnight.
    Today,
    /// Since Monday, midnight (the default view).
    ThisWeek,
    /// The last 7 × 24 hours (from the start of the current minute).
    Last7Days,
    /// The last 30 × 24 hours (from the start of the current minute).
    Last30Days,
    /// No time limit.
    All,
    /// From one day to another, both included.
    Custom(Option<NaiveDate>, Option<NaiveDate>),
}

impl Period {
    /// Parses the URL form (`today`, `this_week`, `last_7_days`, `last_30_days`, `all`,
    /// `custom` with from/to dates). Unknown values fall back to this week.
    pub fn parse(kind: &str, from: Option<&str>, to: Option<&str>) -> Result<Self, String> {
        let date = |raw: Option<&str>| -> Result<Option<NaiveDate>, String> {
            match raw.map(str::trim).filter(|r| !r.is_empty()) {
                Some(raw) => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| format!("{raw:?} is not a date such as 2026-11-02.")),
                None => Ok(None),
            }
        };
        Ok(match kind {
            "today" => Period::Today,
            "last_7_days" => Period::Last7Days,
            "last_30_days" => Period::Last30Days,
            "all" => Period::All,
            "custom" => Period::Custom(date(from)?, date(to)?),
            _ => Period::ThisWeek,
        })
    }

    /// The URL form.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Today => "today",
            Period::ThisWeek => "this_week",
            Period::Last7Days => "last_7_days",
            Period::Last30Days => "last_30_days",
            Period::All => "all",
            Period::Custom(..) => "custom",
        }
    }

    /// UTC bounds `[from, until)` for `now` in the time zone `tz`. A rolling period
    /// starts on a whole minute, so the same view asked twice within a minute is the same
    /// filter (its estimated total is remembered by the filter's bounds).
    pub fn bounds(
        self,
        now: NaiveDateTime,
        tz: Tz,
    ) -> (Option<NaiveDateTime>, Option<NaiveDateTime>) {
        let local_today = tz.from_utc_datetime(&now).date_naive();
        let minute = now
            .with_second(0)
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or(now);
        let midnight = |day: NaiveDate| -> Option<NaiveDateTime> {
            let local = day.and_hms_opt(0, 0, 0)?;
            tz.from_local_datetime(&local)
                .earliest()
                .map(|t| t.naive_utc())
        };
        match self {
            Period::Today => (midnight(local_today), None),
            Period::ThisWeek => {
                let monday = local_today
                    - Duration::days(i64::from(local_today.weekday().num_days_from_monday()));
                (midnight(monday), None)
            }
            Period::Last7Days => (Some(minute - Duration::days(7)), None),
            Period::Last30Days => (Some(minute - Duration::days(30)), None),
            Period::All => (None, None),
            Period::Custom(from, to) => (
                from.and_then(midnight),
                to.and_then(|d| midnight(d + Duration::days(1))),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn this_week_starts_on_monday_in_the_organisations_time_zone() {
        // Wednesday 2026-11-18 10:00 UTC; in Zagreb (UTC+1) the week began Monday 00:00 local.
        let zagreb: Tz = "Europe/Zagreb".parse().unwrap();
        let (from, until) = Period::ThisWeek.bounds(at("2026-11-18 10:00"), zagreb);
        assert_eq!(from, Some(at("2026-11-15 23:00")));
        assert_eq!(until, None);
        // On Monday itself the week starts that day.
        let (from, _) = Period::ThisWeek.bounds(at("2026-11-16 08:00"), chrono_tz::UTC);
        assert_eq!(from, Some(at("2026-11-16 00:00")));
        // Sunday late evening UTC is already Monday in Tokyo.
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        let (from, _) = Period::ThisWeek.bounds(at("2026-11-22 20:00"), tokyo);
        assert_eq!(from, Some(at("2026-11-22 15:00")));
    }

    #[test]
    fn custom_ranges_include_both_days() {
        let period = Period::parse("custom", Some("2026-11-01"), Some("2026-11-02")).unwrap();
        let (from, until) = period.bounds(at("2026-11-20 00:00"), chrono_tz::UTC);
        assert_eq!(
            (from, until),
            (Some(at("2026-11-01 00:00")), Some(at("2026-11-03 00:00")))
        );
        assert!(Period::parse("custom", Some("yesterday"), None).is_err());
        assert_eq!(
            Period::parse("whatever", None, None).unwrap(),
            Period::ThisWeek
        );
    }

    #[test]
    fn a_rolling_period_is_the_same_within_a_minute() {
        let early = at("2026-11-20 10:15") + Duration::milliseconds(1_250);
        let late = at("2026-11-20 10:15") + Duration::milliseconds(59_999);
        for period in [Period::Last7Days, Period::Last30Days] {
            assert_eq!(
                period.bounds(early, chrono_tz::UTC),
                period.bounds(late, chrono_tz::UTC)
            );
        }
        assert_eq!(
            Period::Last7Days.bounds(late, chrono_tz::UTC).0,
            Some(at("2026-11-13 10:15"))
        );
    }
}
