//! A customer's engagement at a glance: conversations, messages, satisfaction and orders
//! per month of the organisation's calendar, and the key figures of the last 30 and 90
//! days. Pure: the caller reads the rows and says what "now" and the time zone are.

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta, TimeZone};
use chrono_tz::Tz;

use super::decimal::Decimal;

/// Months a chart shows, the current one last.
pub const MONTHS: usize = 12;

/// One conversation, as the charts need it.
#[derive(Debug, Clone)]
pub struct ConversationPoint {
    pub started_at: NaiveDateTime,
    pub channel: String,
    pub messages: i64,
    /// 1–5 and when, if the customer rated it.
    pub rating: Option<(i32, NaiveDateTime)>,
}

/// One order, as the charts need it.
#[derive(Debug, Clone)]
pub struct OrderPoint {
    pub placed_at: NaiveDateTime,
    /// A decimal as the shop sent it, e.g. "59.90".
    pub total: String,
    pub currency: String,
}

/// One month of the charts.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthFigures {
    /// Its first day, in the organisation's time zone.
    pub first_day: NaiveDate,
    /// Conversations started, per channel of [`Engagement::channels`], in that order.
    pub by_channel: Vec<i64>,
    pub rating_sum: i64,
    pub ratings: i64,
    pub orders: i64,
}

impl MonthFigures {
    /// Conversations started that month.
    pub fn conversations(&self) -> i64 {
        self.by_channel.iter().sum()
    }

    /// The average rating of that month's rated conversations.
    pub fn satisfaction(&self) -> Option<f64> {
        (self.ratings > 0).then(|| self.rating_sum as f64 / self.ratings as f64)
    }
}

/// Which way satisfaction went: the last 90 days against the 90 before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    Up,
    Steady,
    Down,
}

impl Trend {
    /// Within this much of the earlier average counts as steady.
    const STEADY_WITHIN: f64 = 0.25;

    fn between(before: Option<f64>, recent: Option<f64>) -> Option<Trend> {
        let (before, recent) = (before?, recent?);
        Some(if recent > before + Self::STEADY_WITHIN {
            Trend::Up
        } else if recent < before - Self::STEADY_WITHIN {
            Trend::Down
        } else {
            Trend::Steady
        })
    }

    /// How the trend reads.
    pub fn label(self) -> &'static str {
        match self {
            Trend::Up => "rising",
            Trend::Steady => "steady",
            Trend::Down => "falling",
        }
    }
}

/// Everything the Summary's engagement section shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Engagement {
    /// The channels in the charts, most conversations first.
    pub channels: Vec<String>,
    /// The last [`MONTHS`] months, oldest first.
    pub months: Vec<MonthFigures>,
    pub conversations_30: i64,
    pub conversations_90: i64,
    pub messages_30: i64,
    pub messages_90: i64,
    /// Average rating in the last 90 days.
    pub satisfaction_90: Option<f64>,
    pub trend: Option<Trend>,
    pub orders: i64,
    /// The sum of every order, per currency (alphabetical), as a decimal.
    pub order_totals: Vec<(String, String)>,
}

/// The first days of the last `n` months up to the one holding `today`, oldest first.
pub fn last_months(today: NaiveDate, n: usize) -> Vec<NaiveDate> {
    let mut first = today.with_day(1).unwrap_or(today);
    let mut months = vec![first];
    while months.len() < n {
        first = first
            .checked_sub_months(chrono::Months::new(1))
            .unwrap_or(first);
        months.push(first);
    }
    months.reverse();
    months
}

/// The moment (UTC) the charts start: the first day of the oldest month, at midnight in
/// `zone`. Rows from before it are not needed.
pub fn charts_start(now: NaiveDateTime, zone: Tz) -> NaiveDateTime {
    let today = zone.from_utc_datetime(&now).date_naive();
    let first = last_months(today, MONTHS)[0];
    crate::domain::period::Period::Custom(Some(first), None)
        .bounds(now, zone)
        .0
        .unwrap_or(now)
}

/// Sums the figures. `conversations` and `orders` may hold rows from any time; a
/// conversation counts in the month it started, its rating in the month it was given.
pub fn summarise(
    conversations: &[ConversationPoint],
    orders: &[OrderPoint],
    now: NaiveDateTime,
    zone: Tz,
) -> Engagement {
    let local_month = |at: NaiveDateTime| {
        let day = zone.from_utc_datetime(&at).date_naive();
        day.with_day(1).unwrap_or(day)
    };
    let today = zone.from_utc_datetime(&now).date_naive();
    let firsts = last_months(today, MONTHS);
    let mut counts: std::collections::BTreeMap<&str, i64> = Default::default();
    for c in conversations {
        if firsts.contains(&local_month(c.started_at)) {
            *counts.entry(c.channel.as_str()).or_default() += 1;
        }
    }
    let mut channels: Vec<(&str, i64)> = counts.into_iter().collect();
    channels.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let channels: Vec<String> = channels.into_iter().map(|(c, _)| c.to_owned()).collect();
    let mut months: Vec<MonthFigures> = firsts
        .iter()
        .map(|first| MonthFigures {
            first_day: *first,
            by_channel: vec![0; channels.len()],
            rating_sum: 0,
            ratings: 0,
            orders: 0,
        })
        .collect();
    let within = |days: i64, at: NaiveDateTime| at > now - TimeDelta::days(days) && at <= now;
    let mut engagement = Engagement {
        channels: Vec::new(),
        months: Vec::new(),
        conversations_30: 0,
        conversations_90: 0,
        messages_30: 0,
        messages_90: 0,
        satisfaction_90: None,
        trend: None,
        orders: orders.len() as i64,
        order_totals: order_totals(orders),
    };
    let (mut recent, mut before) = ((0_i64, 0_i64), (0_i64, 0_i64));
    for c in conversations {
        let month = local_month(c.started_at);
        if let Some(figures) = months.iter_mut().find(|m| m.first_day == month)
            && let Some(slot) = channels.iter().position(|ch| *ch == c.channel)
        {
            figures.by_channel[slot] += 1;
        }
        // A rating counts in the month, and the 90 days, it was given.
        if let Some((rating, rated_at)) = c.rating {
            let month = local_month(rated_at);
            if let Some(figures) = months.iter_mut().find(|m| m.first_day == month) {
                figures.rating_sum += i64::from(rating);
                figures.ratings += 1;
            }
        }
        if within(30, c.started_at) {
            engagement.conversations_30 += 1;
            engagement.messages_30 += c.messages;
        }
        if within(90, c.started_at) {
            engagement.conversations_90 += 1;
            engagement.messages_90 += c.messages;
        }
        if let Some((rating, rated_at)) = c.rating {
            let window = if within(90, rated_at) {
                Some(&mut recent)
            } else if within(180, rated_at) {
                Some(&mut before)
            } else {
                None
            };
            if let Some((sum, count)) = window {
                *sum += i64::from(rating);
                *count += 1;
            }
        }
    }
    for o in orders {
        let month = local_month(o.placed_at);
        if let Some(figures) = months.iter_mut().find(|m| m.first_day == month) {
            figures.orders += 1;
        }
    }
    let average = |(sum, count): (i64, i64)| (count > 0).then(|| sum as f64 / count as f64);
    engagement.satisfaction_90 = average(recent);
    engagement.trend = Trend::between(average(before), average(recent));
    engagement.channels = channels;
    engagement.months = months;
    engagement
}

/// The sum of the orders' totals per currency, exactly (decimal, not floating point);
/// a currency whose sum cannot be read or overflows is left out.
fn order_totals(orders: &[OrderPoint]) -> Vec<(String, String)> {
    let mut sums: std::collections::BTreeMap<&str, Option<Decimal>> = Default::default();
    for o in orders {
        let entry = sums
            .entry(o.currency.as_str())
            .or_insert(Some(Decimal::ZERO));
        *entry = entry.and_then(|sum| sum.plus(Decimal::parse(&o.total)?));
    }
    sums.into_iter()
        .filter_map(|(currency, sum)| Some((currency.to_owned(), sum?.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap_or_default()
    }

    fn talk(started: &str, channel: &str, messages: i64, rating: Option<i32>) -> ConversationPoint {
        ConversationPoint {
            started_at: at(started),
            channel: channel.to_owned(),
            messages,
            rating: rating.map(|r| (r, at(started) + TimeDelta::hours(1))),
        }
    }

    fn order(placed: &str, total: &str, currency: &str) -> OrderPoint {
        OrderPoint {
            placed_at: at(placed),
            total: total.to_owned(),
            currency: currency.to_owned(),
        }
    }

    #[test]
    fn twelve_months_end_with_the_current_one() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 31).unwrap_or_default();
        let months = last_months(today, MONTHS);
        assert_eq!(months.len(), 12);
        assert_eq!(
            months[0],
            NaiveDate::from_ymd_opt(2025, 4, 1).unwrap_or_default()
        );
        assert_eq!(
            months[11],
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default()
        );
    }

    #[test]
    fn conversations_fall_in_the_month_of_the_organisations_calendar() {
        let zone: Tz = "Asia/Tokyo".parse().unwrap_or(Tz::UTC);
        let now = at("2026-11-28 12:00");
        let figures = summarise(
            // 30 Sep 20:00 UTC is 1 Oct in Tokyo.
            &[
                talk("2026-09-30 20:00", "sms", 3, Some(5)),
                talk("2026-11-20 10:00", "whatsapp", 4, Some(2)),
                talk("2026-11-21 10:00", "whatsapp", 1, None),
                talk("2024-01-01 10:00", "email", 9, Some(1)),
            ],
            &[],
            now,
            zone,
        );
        assert_eq!(figures.channels, vec!["whatsapp", "sms"]);
        let october = &figures.months[10];
        assert_eq!(
            october.first_day,
            NaiveDate::from_ymd_opt(2026, 10, 1).unwrap_or_default()
        );
        assert_eq!(october.by_channel, vec![0, 1]);
        assert_eq!(figures.months[11].by_channel, vec![2, 0]);
        assert_eq!(figures.months[11].satisfaction(), Some(2.0));
        assert_eq!((figures.conversations_30, figures.messages_30), (2, 5));
        assert_eq!((figures.conversations_90, figures.messages_90), (3, 8));
        assert_eq!(figures.satisfaction_90, Some(3.5));
    }

    #[test]
    fn satisfaction_trend_compares_the_last_90_days_with_the_90_before() {
        let now = at("2026-11-28 12:00");
        let trend = |before: i32, recent: i32| {
            summarise(
                &[
                    talk("2026-07-01 10:00", "sms", 1, Some(before)),
                    talk("2026-11-01 10:00", "sms", 1, Some(recent)),
                ],
                &[],
                now,
                Tz::UTC,
            )
            .trend
        };
        assert_eq!(trend(2, 5), Some(Trend::Up));
        assert_eq!(trend(4, 4), Some(Trend::Steady));
        assert_eq!(trend(5, 1), Some(Trend::Down));
        let alone = summarise(
            &[talk("2026-11-01 10:00", "sms", 1, Some(4))],
            &[],
            now,
            Tz::UTC,
        );
        assert_eq!(alone.trend, None, "nothing to compare with");
        // Rated in November, a conversation started in October counts there.
        let mut late = talk("2026-10-30 10:00", "sms", 1, None);
        late.rating = Some((1, at("2026-11-02 09:00")));
        let figures = summarise(&[late], &[], now, Tz::UTC);
        assert_eq!(figures.months[11].satisfaction(), Some(1.0));
        assert_eq!(figures.months[10].satisfaction(), None);
        assert_eq!(figures.months[10].conversations(), 1);
    }

    #[test]
    fn order_totals_are_exact_per_currency() {
        let figures = summarise(
            &[],
            &[
                order("2026-11-01 10:00", "0.10", "EUR"),
                order("2026-11-02 10:00", "0.2", "EUR"),
                order("2026-11-03 10:00", "19.99", "EUR"),
                order("2026-01-03 10:00", "-5", "USD"),
                order("2020-01-03 10:00", "7.5", "USD"),
                order("2026-11-03 10:00", "not a number", "HRK"),
            ],
            at("2026-11-28 12:00"),
            Tz::UTC,
        );
        assert_eq!(
            figures.order_totals,
            vec![
                ("EUR".to_owned(), "20.29".to_owned()),
                ("USD".to_owned(), "2.5".to_owned())
            ]
        );
        assert_eq!(figures.orders, 6);
        assert_eq!(figures.months[11].orders, 4);
        assert_eq!(figures.months[1].orders, 1, "January 2026");
        let charted: i64 = figures.months.iter().map(|m| m.orders).sum();
        assert_eq!(charted, 5, "2020 is before the charts");
    }
}
