//! What every page's layout needs — who is signed in, the CSRF token, one-time messages,
//! the current navigation entry — kept below `auth` and `handlers` so the error page can
//! render it without knowing about either.

use serde::{Deserialize, Serialize};

/// How a one-time message looks: also its CSS class (`flash-success` …).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FlashKind {
    /// Something was done.
    Success,
    /// Something to know.
    Info,
    /// Something went wrong.
    Error,
}

impl FlashKind {
    /// The stored and CSS name.
    pub fn as_str(self) -> &'static str {
        match self {
            FlashKind::Success => "success",
            FlashKind::Info => "info",
            FlashKind::Error => "error",
        }
    }
}

impl std::fmt::Display for FlashKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message shown once on the next page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Flash {
    /// How it looks.
    pub kind: FlashKind,
    /// What to say.
    pub text: String,
    /// Where the page shows it, when not at the top: the id of the part it is about
    /// (`bulk`: the Customers page's bulk bar).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// The signed-in user as the navigation shows them.
pub struct NavUser {
    /// Name shown in the header.
    pub display_name: String,
    /// Role label shown beside it.
    pub role_label: &'static str,
    /// Whether supervisor navigation is shown.
    pub is_supervisor: bool,
    /// Whether the Customers entry is shown.
    pub customers_page: bool,
    /// The user's IANA time zone, for showing times.
    pub time_zone: String,
}

/// The layout's data: who is signed in, the CSRF token for forms, one-time messages, and
/// which navigation entry is current. Built from the session in `handlers::page`.
pub struct PageContext {
    /// `None` on the sign-in and error pages.
    pub user: Option<NavUser>,
    /// Goes into every form as the hidden `csrf_token` field.
    pub csrf_token: String,
    /// Messages queued by the previous request.
    pub flashes: Vec<Flash>,
    /// The current navigation section, e.g. `users`.
    pub section: &'static str,
}

impl PageContext {
    /// For error pages, which have no session at hand.
    pub fn anonymous() -> Self {
        PageContext {
            user: None,
            csrf_token: String::new(),
            flashes: Vec::new(),
            section: "",
        }
    }

    /// A stored UTC time in the signed-in user's time zone.
    pub fn time(&self, at: chrono::NaiveDateTime) -> String {
        local_time(
            at,
            self.user.as_ref().map_or("UTC", |u| u.time_zone.as_str()),
        )
    }
}

/// A count as people read it: 1,234,567.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A count with its noun, singular for one: "1 identity", "1,300 identities".
/// Takes the count by value or, as templates pass it, by reference.
pub fn count_of(n: impl std::borrow::Borrow<i64>, one: &str, many: &str) -> String {
    match *n.borrow() {
        1 => format!("1 {one}"),
        n => format!("{} {many}", thousands(n)),
    }
}

/// A stored UTC time in an IANA time zone, as `YYYY-MM-DD HH:MM`.
///
/// Written field by field: a page of rows shows a few hundred times, and a `strftime`
/// pattern would be parsed again for each.
pub fn local_time(at: chrono::NaiveDateTime, time_zone: &str) -> String {
    use chrono::{Datelike, Timelike};
    let tz: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::UTC);
    let local = at.and_utc().with_timezone(&tz).naive_local();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        local.year(),
        local.month(),
        local.day(),
        local.hour(),
        local.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::{count_of, local_time};

    #[test]
    fn counts_read_in_the_singular_for_one() {
        assert_eq!(count_of(1, "identity", "identities"), "1 identity");
        assert_eq!(count_of(0, "identity", "identities"), "0 identities");
        assert_eq!(count_of(1_300, "customer", "customers"), "1,300 customers");
    }

    #[test]
    fn local_times_read_as_the_zone_shows_them() {
        let at =
            |text: &str| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap();
        for (utc, zone) in [
            ("2026-03-29 00:59:59", "Europe/Madrid"),
            ("2026-03-29 01:00:00", "Europe/Madrid"),
            ("2026-11-30 23:30:00", "America/Sao_Paulo"),
            ("2026-01-01 00:05:00", "Asia/Kolkata"),
            ("0999-12-31 23:59:00", "UTC"),
            ("2026-06-01 12:00:00", "no such zone"),
        ] {
            let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
            let expected = at(utc)
                .and_utc()
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M")
                .to_string();
            assert_eq!(local_time(at(utc), zone), expected, "{utc} in {zone}");
        }
        assert_eq!(
            local_time(at("2026-03-29 01:00:00"), "Europe/Madrid"),
            "2026-03-29 03:00"
        );
    }
}
