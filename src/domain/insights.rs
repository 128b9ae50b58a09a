//! The Insights page's arithmetic: weeks of the organisation's calendar (from Monday),
//! the slices a supervisor filters by, and the figures read back from summary rows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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

    /// Conversations started in the week rated 1, 2, 3, 4 and 5: [`rating`] of each.
    pub const RATINGS: [&str; 5] = ["rating_1", "rating_2", "rating_3", "rating_4", "rating_5"];

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
    /// metric → channel → a value per week of `weeks` (0 when absent): a chart looks a
    /// figure up for each of its cells, by borrowed names and the week's place.
    rows: HashMap<String, HashMap<String, Vec<i64>>>,
}

impl Figures {
    /// Figures from summary rows (those of other weeks are left out).
    pub fn new(weeks: Vec<NaiveDate>, rows: Vec<(String, String, String, i64)>) -> Figures {
        let asked: HashMap<String, usize> = weeks
            .iter()
            .enumerate()
            .map(|(at, w)| (week_key(*w), at))
            .collect();
        let mut figures = Figures {
            rows: HashMap::new(),
            weeks,
        };
        let count = figures.weeks.len();
        for (week, metric, channel, value) in rows {
            let Some(at) = asked.get(&week).copied() else {
                continue;
            };
            let series = figures
                .rows
                .entry(metric)
                .or_default()
                .entry(channel)
                .or_insert_with(|| vec![0; count]);
            series[at] = value;
        }
        figures
    }

    /// A metric's values on a channel, one per week (empty when it has none).
    fn series(&self, metric: &str, channel: &str) -> &[i64] {
        self.rows
            .get(metric)
            .and_then(|channels| channels.get(channel))
            .map_or(&[], Vec::as_slice)
    }

    /// The place of `week` among the weeks asked (they are consecutive Mondays).
    fn place(&self, week: NaiveDate) -> Option<usize> {
        let first = *self.weeks.first()?;
        let days = (week - first).num_days();
        (days >= 0 && days % 7 == 0)
            .then(|| usize::try_from(days / 7).ok())
            .flatten()
            .filter(|at| self.weeks.get(*at) == Some(&week))
    }

    /// One figure of one week (0 when absent).
    pub fn get(&self, week: NaiveDate, metric: &str, channel: &str) -> i64 {
        self.place(week)
            .and_then(|at| self.series(metric, channel).get(at))
            .copied()
            .unwrap_or(0)
    }

    /// The channels that had a conversation in the weeks, alphabetical.
    pub fn channels(&self) -> Vec<String> {
        let mut channels: Vec<String> = self
            .rows
            .get(metric::CONVERSATIONS)
            .into_iter()
            .flatten()
            .filter(|(channel, values)| !channel.is_empty() && values.iter().any(|v| *v > 0))
            .map(|(channel, _)| channel.clone())
            .collect();
        channels.sort();
        channels
    }

    /// Ratings 1–5 over the weeks: count of each.
    pub fn rating_counts(&self, channel: &str) -> [i64; 5] {
        metric::RATINGS.map(|rating| self.series(rating, channel).iter().sum())
    }

    /// The week's average rating, when any.
    pub fn average_rating(&self, week: NaiveDate, channel: &str) -> Option<f64> {
        let (mut sum, mut count) = (0, 0);
        for (stars, rating) in (1..).zip(metric::RATINGS) {
            let n = self.get(week, rating, channel);
            sum += stars * n;
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

/// What a slice's figures were read for: the slice as it was refreshed, and the weeks and
/// channel asked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FiguresAsked {
    pub slice: String,
    pub built_at: NaiveDateTime,
    pub refreshed_at: NaiveDateTime,
    pub first_week: NaiveDate,
    pub weeks: usize,
    pub channel: String,
}

/// The most figures an instance keeps (a year of one slice is about 30 kB).
const KEPT_AT_MOST: usize = 64;

/// Figures read lately, kept by what they were read for. A slice's rows change only in
/// the transaction that also moves its refresh time, so figures read at one refresh time
/// hold until the next, and the page asking again reads the refresh time alone. Each
/// instance keeps its own: the refresh time read from the database decides, so instances
/// agree.
#[derive(Debug, Clone, Default)]
pub struct FiguresKept(Arc<Mutex<HashMap<FiguresAsked, Arc<Figures>>>>);

impl FiguresKept {
    /// The figures kept for `asked`, if any.
    pub fn get(&self, asked: &FiguresAsked) -> Option<Arc<Figures>> {
        self.0.lock().ok()?.get(asked).cloned()
    }

    /// Keeps `figures` for `asked`; when full, the ones kept before are let go (figures
    /// of an older refresh are never asked for again).
    pub fn keep(&self, asked: FiguresAsked, figures: Arc<Figures>) {
        if let Ok(mut kept) = self.0.lock() {
            if kept.len() >= KEPT_AT_MOST {
                kept.clear();
            }
            kept.insert(asked, figures);
        }
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
    fn kept_figures_are_found_by_all_they_were_read_for_and_bounded() {
        let kept = FiguresKept::default();
        let at = day("2026-11-23").and_hms_opt(8, 0, 0).unwrap_or_default();
        let asked = |n: usize| FiguresAsked {
            slice: "all".to_owned(),
            built_at: at,
            refreshed_at: at + TimeDelta::minutes(n as i64),
            first_week: day("2026-11-02"),
            weeks: 4,
            channel: String::new(),
        };
        kept.keep(asked(0), Arc::new(Figures::default()));
        assert!(kept.get(&asked(0)).is_some());
        assert!(kept.get(&asked(1)).is_none(), "another refresh");
        let other_channel = FiguresAsked {
            channel: "sms".to_owned(),
            ..asked(0)
        };
        assert!(kept.get(&other_channel).is_none());
        for n in 1..=KEPT_AT_MOST {
            kept.keep(asked(n), Arc::new(Figures::default()));
        }
        assert!(kept.get(&asked(KEPT_AT_MOST)).is_some());
        assert!(kept.get(&asked(0)).is_none(), "let go when full");
        assert!(kept.0.lock().map(|k| k.len()).unwrap_or(0) <= KEPT_AT_MOST);
    }

    #[test]
    fn figures_find_each_week_by_its_place() {
        let weeks = weeks_ending(day("2026-11-30"), 3);
        let row = |week: &str, value| {
            (
                week.to_owned(),
                metric::NEW.to_owned(),
                String::new(),
                value,
            )
        };
        let rows = vec![
            row("2026-11-23", 7),
            row("2026-11-30", 2),
            row("2026-11-09", 9),
        ];
        let figures = Figures::new(weeks, rows);
        assert_eq!(figures.get(day("2026-11-16"), metric::NEW, ""), 0);
        assert_eq!(figures.get(day("2026-11-23"), metric::NEW, ""), 7);
        assert_eq!(figures.get(day("2026-11-30"), metric::NEW, ""), 2);
        // Weeks before, after or between the ones asked read nothing.
        assert_eq!(figures.get(day("2026-11-09"), metric::NEW, ""), 0);
        assert_eq!(figures.get(day("2026-12-07"), metric::NEW, ""), 0);
        assert_eq!(figures.get(day("2026-11-24"), metric::NEW, ""), 0);
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
        // A week not asked reads 0; the names of ratings are those stored.
        assert_eq!(
            figures.get(day("2026-11-30"), metric::CONVERSATIONS, "sms"),
            0
        );
        assert_eq!(figures.get(week, metric::CONVERSATIONS, "sms"), 3);
        for (stars, name) in (1..).zip(metric::RATINGS) {
            assert_eq!(metric::rating(stars), name);
        }
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
