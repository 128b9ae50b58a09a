//! Where a page of the Customers list stands and the links around it: the next and
//! previous pages (keyset cursors in the URL, the earlier ones in `trail`), the rows'
//! range, and "search further" when a page's walk stopped before the page was full
//! (`further` counts how many times the reader asked; see `listing::Walk`).

use crate::db::listing::{self, Cursor, Found, SortKey};

use super::filter::query_of;
use crate::page::thousands;

/// The URL keys that place a page rather than say what is listed.
pub const PLACING: [&str; 3] = ["after", "trail", "further"];

/// Where a page stands, from its URL.
pub struct Position {
    /// The cursor after which the page starts, as the URL gave it.
    pub after_raw: Option<String>,
    pub after: Option<Cursor>,
    /// The earlier pages' cursors, oldest first.
    pub trail: Vec<String>,
    /// How many times the reader searched further.
    pub further: u32,
}

impl Position {
    pub fn of(pairs: &[(String, String)]) -> Position {
        let value = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let after_raw = value("after")
            .filter(|v| Cursor::parse(v).is_some())
            .map(str::to_owned);
        let trail = value("trail")
            .map(|v| {
                v.split(',')
                    .filter(|c| Cursor::parse(c).is_some())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let further = value("further")
            .and_then(|v| v.parse::<u32>().ok())
            .map_or(0, |n| n.min(listing::FURTHEST));
        Position {
            after: after_raw.as_deref().and_then(Cursor::parse),
            after_raw,
            trail,
            further,
        }
    }

    /// The trail of the page after this one.
    fn onward(&self) -> Vec<String> {
        let mut earlier = self.trail.clone();
        earlier.extend(self.after_raw.clone());
        earlier
    }
}

/// `base` placed after a cursor, with a trail, searched further `further` times.
fn link(base: &str, after: Option<&str>, trail: &[String], further: u32) -> String {
    let further = if further == 0 {
        String::new()
    } else {
        further.to_string()
    };
    let extra = query_of(
        &[
            ("after".to_owned(), after.unwrap_or_default().to_owned()),
            ("trail".to_owned(), trail.join(",")),
            ("further".to_owned(), further),
        ],
        &[],
    );
    [base, extra.as_str()]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("&")
}

/// "Search further": how far this page's walk read, and the link that reads on.
pub struct Further {
    pub href: String,
    /// How many customers the page searched, "2,000".
    pub searched: String,
    /// How many the link searches, "10,000"; `None`: all the rest.
    pub next: Option<String>,
}

/// The links around a page.
pub struct Pager {
    pub next: Option<String>,
    pub previous: Option<String>,
    pub further: Option<Further>,
    /// "51–100", when the page shows anyone and the pages before it were full.
    pub range: Option<String>,
}

/// The links around `found`, cut to `size` rows, on the list `base` (its URL without
/// [`PLACING`]) sorted by `key`.
pub fn pager(position: &Position, base: &str, found: &mut Found, key: SortKey, size: i64) -> Pager {
    let rows = &mut found.rows;
    let now = position.further;
    let next = (rows.len() as i64 > size)
        .then(|| {
            rows.truncate(usize::try_from(size).unwrap_or(50));
            rows.last().map(|(c, tier)| {
                let cursor = Cursor::after(c, key, *tier).to_param();
                link(base, Some(&cursor), &position.onward(), now)
            })
        })
        .flatten();
    let further = match (&next, &found.stopped) {
        (None, Some(stopped)) => Some(Further {
            href: link(
                base,
                Some(&stopped.at.to_param()),
                &position.onward(),
                now + 1,
            ),
            searched: thousands(stopped.searched),
            next: stopped.next.map(thousands),
        }),
        _ => None,
    };
    let previous = position
        .after_raw
        .as_ref()
        .map(|_| match position.trail.split_last() {
            Some((last, rest)) => link(base, Some(last), rest, now),
            None => link(base, None, &[], now),
        });
    // Past a page that stopped short, pages no longer hold `size` rows each.
    let first_row = (position.trail.len() as i64 + i64::from(position.after.is_some())) * size + 1;
    let range = (!rows.is_empty() && now == 0).then(|| {
        format!(
            "{}–{}",
            thousands(first_row),
            thousands(first_row + rows.len() as i64 - 1)
        )
    });
    Pager {
        next,
        previous,
        further,
        range,
    }
}
