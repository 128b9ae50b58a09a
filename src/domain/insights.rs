//! The Insights page's arithmetic: weeks of the organisation's calendar (from Monday),
//! the slices a supervisor filters by, and the figures read back from summary rows.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta, TimeZone};
use chrono_tz::Tz;

use super::customer::Lifecycle;

/// Weeks kept: the current one and the 52 before.
pub const WEEKS_KEPT: i64 = 53;

/// The periods the page offers, in weeks.
pub const PERIODS: [i64; 4] = [4, 12, 26, 52];

/// The Monday (local date) of the week `at` (UTC) falls in.
pub fn week_of(zone: Tz, at: NaiveDateTime) -> NaiveDate {
    let local = zone.from_utc_datetime(&at).date_naive();
    local - TimeDelta::days(i64::from(local.weekday().num_days_from_monday()))
}

/// When a local day starts, in UTC (the first moment of it, across a clock change).
pub fn day_start(zone: Tz, day: NaiveDate) -> NaiveDateTime {
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    match zone.from_local_datetime(&midnight) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.naive_utc(),
        // No midnight that day (a clock change at midnight): an hour later exists.
        chrono::LocalResult::None => zone
            .from_local_datetime(&(midnight + TimeDelta::hours(1)))
            .earliest()
            .map_or(midnight, |t| t.naive_utc()),
    }
}

/// A week's bounds in UTC: from its Monday's start to the next Monday's.
pub fn week_bounds(zone: Tz, week: NaiveDate) -> (NaiveDateTime, NaiveDateTime) {
    (
        day_start(zone, week),
        day_start(zone, week + TimeDelta::days(7)),
    )
}

/// The `count` weeks ending with `current`, oldest first.
pub fn weeks_ending(current: NaiveDate, count: i64) -> Vec<NaiveDate> {
    (0..count)
        .rev()
        .map(|back| current - TimeDelta::weeks(back))
        .collect()
}

/// A week as stored ("2026-11-23").
pub fn week_key(week: NaiveDate) -> String {
    week.format("%Y-%m-%d").to_string()
}

/// What a slice is: everyone, or the customers of a tag, a segment, or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SliceKey {
    pub tag: Option<i64>,
    pub segment: Option<i64>,
}

impl SliceKey {
    /// The stored name: `all`, `tag:3`, `segment:5`, `segment:5,tag:3`.
    pub fn name(self) -> String {
        match (self.segment, self.tag) {
            (None, None) => "all".to_owned(),
            (None, Some(t)) => format!("tag:{t}"),
            (Some(s), None) => format!("segment:{s}"),
            (Some(s), Some(t)) => format!("segment:{s},tag:{t}"),
        }
    }

    /// Whether the slice is every customer (no membership to test).
    pub fn everyone(self) -> bool {
        self.tag.is_none() && self.segment.is_none()
    }
}

/// The figures a week can have (`channel` '' is every channel).
pub mod metric {
    /// Customers created in the week.
    pub const NEW: &str = "new";
    /// Customers with a conversation started in the week.
    pub const ACTIVE: &str = "active";
    /// Conversations started in the week.
    pub const CONVERSATIONS: &str = "conversations";

    /// Conversations started in the week that staff answered.
    pub const ANSWERED: &str = "answered";
    /// Their seconds from the start to the first answer, summed.
    pub const ANSWER_SECONDS: &str = "answer_seconds";

    /// Conversations started in the week rated `stars` (1–5).
    pub fn rating(stars: i32) -> String {
        format!("rating_{stars}")
    }

    /// Customers in a stage when the slice was last built in the week.
    pub fn stage(stage: &str) -> String {
        format!("stage_{stage}")
    }
}

/// One summary row: (week, metric, channel) → value.
pub type Counts = HashMap<(String, String, String), i64>;

/// Adds `by` to a figure of a week, for every channel and for `channel` (when there is one).
pub fn bump(counts: &mut Counts, week: &str, metric: &str, channel: Option<&str>, by: i64) {
    *counts
        .entry((week.to_owned(), metric.to_owned(), String::new()))
        .or_default() += by;
    if let Some(channel) = channel.filter(|c| !c.is_empty()) {
        *counts
            .entry((week.to_owned(), metric.to_owned(), channel.to_owned()))
            .or_default() += by;
    }
}

/// The figures of a slice as read back, for the weeks asked.
#[derive(Debug, Default)]
pub struct Figures {
    pub weeks: Vec<NaiveDate>,
    /// metric → channel → week → value: a chart looks a figure up for each of its cells,
    /// by borrowed names and a date.
    rows: HashMap<String, HashMap<String, HashMap<NaiveDate, i64>>>,
}

impl Figures {
    /// Figures from summary rows (those of other weeks are left out).
    pub fn new(weeks: Vec<NaiveDate>, rows: Vec<(String, String, String, i64)>) -> Figures {
        let asked: HashMap<String, NaiveDate> = weeks.iter().map(|w| (week_key(*w), *w)).collect();
        let mut figures = Figures {
            weeks,
            rows: HashMap::new(),
        };
        for (week, metric, channel, value) in rows {
            let Some(week) = asked.get(&week).copied() else {
                continue;
            };
            figures
                .rows
                .entry(metric)
                .or_default()
                .entry(channel)
                .or_default()
                .insert(week, value);
        }
        figures
    }

    /// One figure of one week (0 when absent).
    pub fn get(&self, week: NaiveDate, metric: &str, channel: &str) -> i64 {
        self.rows
            .get(metric)
            .and_then(|channels| channels.get(channel))
            .and_then(|weeks| weeks.get(&week))
            .copied()
            .unwrap_or(0)
    }

    /// The channels that had a conversation in the weeks, alphabetical.
    pub fn channels(&self) -> Vec<String> {
        let first = self.weeks.first().copied().unwrap_or_default();
        let mut channels: Vec<String> = self
            .rows
            .get(metric::CONVERSATIONS)
            .into_iter()
            .flatten()
            .filter(|(channel, weeks)| {
                !channel.is_empty()
                    && weeks
                        .iter()
                        .any(|(week, value)| *week >= first && *value > 0)
            })
            .map(|(channel, _)| channel.clone())
            .collect();
        channels.sort();
        channels
    }

    /// Ratings 1–5 over the weeks: count of each.
    pub fn rating_counts(&self, channel: &str) -> [i64; 5] {
        let mut counts = [0; 5];
        for week in &self.weeks {
            for (i, stars) in (1..=5).enumerate() {
                counts[i] += self.get(*week, &metric::rating(stars), channel);
            }
        }
        counts
    }

    /// The week's average rating, when any.
    pub fn average_rating(&self, week: NaiveDate, channel: &str) -> Option<f64> {
        let (mut sum, mut count) = (0, 0);
        for stars in 1..=5 {
            let n = self.get(week, &metric::rating(stars), channel);
            sum += i64::from(stars) * n;
            count += n;
        }
        (count > 0).then(|| sum as f64 / count as f64)
    }

    /// The week's average time to a first answer, in minutes, when any was answered.
    pub fn average_answer_minutes(&self, week: NaiveDate, channel: &str) -> Option<f64> {
        let answered = self.get(week, metric::ANSWERED, channel);
        let seconds = self.get(week, metric::ANSWER_SECONDS, channel);
        (answered > 0).then(|| seconds as f64 / answered as f64 / 60.0)
    }

    /// Customers per stage in a week (in the order of [`Lifecycle::ALL`]).
    pub fn stages(&self, week: NaiveDate, channel: &str) -> Vec<i64> {
        Lifecycle::ALL
            .iter()
            .map(|stage| self.get(week, &metric::stage(stage.as_str()), channel))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn weeks_start_on_the_local_monday() {
        let zagreb: Tz = "Europe/Zagreb".parse().unwrap_or(chrono_tz::UTC);
        // Sunday 23:30 UTC is already Monday in Zagreb.
        let at = day("2026-11-29").and_hms_opt(23, 30, 0).unwrap_or_default();
        assert_eq!(week_of(zagreb, at), day("2026-11-30"));
        assert_eq!(week_of(chrono_tz::UTC, at), day("2026-11-23"));
        let (from, until) = week_bounds(zagreb, day("2026-11-30"));
        assert_eq!(from.to_string(), "2026-11-29 23:00:00");
        assert_eq!(until.to_string(), "2026-12-06 23:00:00");
        let weeks = weeks_ending(day("2026-11-30"), 3);
        assert_eq!(
            weeks,
            vec![day("2026-11-16"), day("2026-11-23"), day("2026-11-30")]
        );
    }

    #[test]
    fn figures_read_back_counts_ratings_and_stages() {
        let week = day("2026-11-23");
        let mut counts = Counts::new();
        bump(
            &mut counts,
            "2026-11-23",
            &metric::rating(5),
            Some("sms"),
            2,
        );
        bump(
            &mut counts,
            "2026-11-23",
            &metric::rating(2),
            Some("whatsapp"),
            1,
        );
        bump(
            &mut counts,
            "2026-11-23",
            metric::CONVERSATIONS,
            Some("sms"),
            3,
        );
        bump(&mut counts, "2026-11-23", &metric::stage("vip"), None, 4);
        let rows = counts
            .into_iter()
            .map(|((w, m, c), v)| (w, m, c, v))
            .collect();
        let figures = Figures::new(vec![week], rows);
        assert_eq!(figures.rating_counts(""), [0, 1, 0, 0, 2]);
        assert_eq!(figures.rating_counts("sms"), [0, 0, 0, 0, 2]);
        assert_eq!(figures.average_rating(week, ""), Some(4.0));
        assert_eq!(figures.stages(week, "")[5], 4);
        assert_eq!(figures.channels(), vec!["sms".to_owned()]);
        assert_eq!(
            SliceKey {
                tag: Some(3),
                segment: Some(5)
            }
            .name(),
            "segment:5,tag:3"
        );
    }
}
