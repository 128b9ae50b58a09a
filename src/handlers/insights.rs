//! `/insights` for supervisors: new and active customers per week, customers per stage
//! over time, channel mix, satisfaction and time to a first answer, filtered by period, channel, tag and segment.
//! Each bar links to the Customers page with the matching filter, each chart downloads as
//! CSV. Read from summary rows only (`services::insights`).

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{Datelike, NaiveDate, TimeDelta};

use crate::auth::{CurrentUser, Supervisor};
use crate::db::listing::CustomerFilter;
use crate::db::segments::Segment;
use crate::db::tags::Tag;
use crate::db::types::TagId;
use crate::domain::Role;
use crate::domain::channel::Channel;
use crate::domain::customer::Lifecycle;
use crate::domain::insights::{Figures, FiguresKept, PERIODS, SliceKey, metric};
use crate::error::AppError;
use crate::handlers::charts::{Chart, Column, whole};
use crate::handlers::customers::filter;
use crate::handlers::customers::identities::channel_label;
use crate::handlers::page::{PageContext, render_status};
use crate::services::insights::{self, State};
use crate::state::AppState;

/// The page's filters as the URL carries them.
#[derive(Debug, Clone, Default)]
struct Asked {
    weeks: i64,
    channel: String,
    tag: Option<i64>,
    segment: Option<i64>,
}

impl Asked {
    fn parse(pairs: &[(String, String)]) -> Asked {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default()
        };
        let weeks = get("weeks").parse().ok().filter(|w| PERIODS.contains(w));
        let channel = get("channel");
        Asked {
            weeks: weeks.unwrap_or(12),
            channel: if channel.parse::<Channel>().is_ok() {
                channel
            } else {
                String::new()
            },
            tag: get("tag").parse().ok(),
            segment: get("segment").parse().ok(),
        }
    }

    /// The page's own query string (for the CSV links).
    fn query(&self) -> String {
        let mut query = format!("weeks={}", self.weeks);
        if !self.channel.is_empty() {
            query.push_str(&format!("&channel={}", self.channel));
        }
        if let Some(tag) = self.tag {
            query.push_str(&format!("&tag={tag}"));
        }
        if let Some(segment) = self.segment {
            query.push_str(&format!("&segment={segment}"));
        }
        query
    }
}

#[derive(Template)]
#[template(path = "insights.html")]
struct InsightsPage {
    ctx: PageContext,
    periods: [i64; 4],
    weeks: i64,
    channel: String,
    channels: Vec<(&'static str, &'static str)>,
    tags: Vec<Tag>,
    tag: Option<i64>,
    segments: Vec<Segment>,
    segment: Option<i64>,
    state: State,
    charts: Vec<Chart>,
    updated: String,
}

/// What the page reads in one go.
struct Read {
    tags: Vec<Tag>,
    segments: Vec<Segment>,
    asked: Asked,
    /// The segment's filter as the Customers page's query, period and sort left out.
    segment_query: String,
    state: State,
    figures: Option<Arc<Figures>>,
}

/// Reads the page's figures for `asked`, registering its slice when new; a tag or segment
/// that no longer exists is dropped from the filter.
fn read(
    conn: &mut crate::db::DbConnection,
    kept: &FiguresKept,
    mut asked: Asked,
    user: (Role, i64, &crate::domain::scope::Scope),
) -> Result<Read, AppError> {
    let tags = crate::db::tags::list_tags(conn)?;
    let segments = crate::db::segments::list_segments(conn)?;
    asked.tag = asked.tag.filter(|t| tags.iter().any(|tag| tag.id.0 == *t));
    let segment = asked
        .segment
        .and_then(|s| segments.iter().find(|seg| seg.id.0 == s));
    asked.segment = segment.map(|s| s.id.0);
    let mut segment_query = String::new();
    let mut slice_filter = CustomerFilter::default();
    if let Some(segment) = segment {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&segment.query)
            .map_err(|_| AppError::Conflict("a segment cannot be read".into()))?;
        segment_query = filter::query_of(&pairs, &PAGE_KEYS);
        let mut everyone: Vec<(String, String)> = pairs
            .into_iter()
            .filter(|(k, _)| !PAGE_KEYS.contains(&k.as_str()))
            .collect();
        everyone.push(("period".into(), "all".into()));
        everyone.push(("whose".into(), "all".into()));
        slice_filter = filter::resolve(conn, &everyone, user.0, user.1, user.2)?.filter;
        slice_filter.reach = None;
        slice_filter.ids.clear();
    }
    if let Some(tag) = asked.tag {
        slice_filter.all_tags.push(TagId(tag));
    }
    let key = SliceKey {
        tag: asked.tag,
        segment: asked.segment,
    };
    let state = insights::open(conn, key, &slice_filter)?;
    let figures = insights::figures(conn, kept, key, &state, asked.weeks, &asked.channel)?;
    Ok(Read {
        tags,
        segments,
        asked,
        segment_query,
        state,
        figures,
    })
}

/// Keys of a segment's query that the insights' own period and sort replace.
const PAGE_KEYS: [&str; 8] = ["period", "from", "to", "on", "whose", "sort", "dir", "size"];

async fn load(
    current: &CurrentUser,
    state: &AppState,
    pairs: Vec<(String, String)>,
) -> Result<Read, AppError> {
    let asked = Asked::parse(&pairs);
    let (role, me, scope) = (current.role(), current.user.id.0, current.scope.clone());
    let kept = state.figures.clone();
    state
        .run(move |conn| read(conn, &kept, asked, (role, me, &scope)))
        .await
}

/// `GET /insights`.
pub async fn show(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let read = load(&current, &state, query.into_inner()).await?;
    let ctx = PageContext::new(&current, "insights")?;
    let charts = read
        .figures
        .as_ref()
        .map(|f| charts(f, &read.asked, &read.segment_query, None))
        .unwrap_or_default();
    let updated = match &read.state {
        State::Ready { refreshed_at, .. } => ctx.time(*refreshed_at),
        State::Building(_) => String::new(),
    };
    let page = InsightsPage {
        periods: PERIODS,
        weeks: read.asked.weeks,
        channel: read.asked.channel.clone(),
        channels: Channel::ALL
            .iter()
            .map(|c| (c.as_str(), c.label()))
            .collect(),
        tags: read.tags,
        tag: read.asked.tag,
        segments: read.segments,
        segment: read.asked.segment,
        state: read.state,
        charts,
        updated,
        ctx,
    };
    render_status(&page, StatusCode::OK)
}

/// `GET /insights/{chart}.csv`: one chart's figures, as its table shows them.
pub async fn csv(
    Supervisor(current): Supervisor,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let wanted = path.into_inner();
    let read = load(&current, &state, query.into_inner()).await?;
    let figures = read.figures.as_ref().ok_or_else(|| {
        AppError::Conflict("These figures are still being prepared; try again shortly.".into())
    })?;
    let only = wanted.trim_end_matches(".csv");
    let chart = charts(figures, &read.asked, &read.segment_query, Some(only))
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let unexpected = |e: csv::Error| AppError::Unexpected(e.into());
    let mut header = vec![chart.axis.to_owned()];
    header.extend(chart.series.iter().cloned());
    out.write_record(&header).map_err(unexpected)?;
    for column in &chart.columns {
        let mut row = vec![column.month.clone()];
        row.extend(column.cells.iter().cloned());
        out.write_record(&row).map_err(unexpected)?;
    }
    let body = out
        .into_inner()
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!(e.to_string())))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"insights-{wanted}\""),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .body(body))
}

/// The start of the Customers page's links for this slice, to which each cell appends its
/// week and conditions (built once: a year of weekly charts has about a thousand cells).
fn customers_prefix(asked: &Asked, segment_query: &str) -> String {
    let mut prefix = String::from("/customers?");
    if !segment_query.is_empty() {
        prefix.push_str(segment_query);
        prefix.push('&');
    }
    if let Some(tag) = asked.tag {
        prefix.push_str(&format!("tag={tag}&"));
    }
    prefix.push_str("whose=all&");
    prefix
}

fn week_period(week: NaiveDate, on_last_contact: bool) -> String {
    let last = week + TimeDelta::days(6);
    let on = if on_last_contact {
        "&on=last_contact"
    } else {
        ""
    };
    format!("period=custom&from={week}&to={last}{on}")
}

/// Months as a column's name writes them.
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// One column per week of `figures`: each series' value and the customers it links to.
fn week_columns(
    figures: &Figures,
    series: impl Fn(NaiveDate) -> Vec<(f64, String)>,
) -> Vec<Column> {
    let every = (figures.weeks.len() / 6).max(1);
    figures
        .weeks
        .iter()
        .enumerate()
        .map(|(i, week)| {
            // A label under every few columns, the newest always.
            let initial = if (figures.weeks.len() - 1 - i).is_multiple_of(every) {
                format!("{}/{}", week.day(), week.month())
            } else {
                String::new()
            };
            let (stack, links) = series(*week)
                .into_iter()
                .map(|(value, link)| (value, Some(link)))
                .unzip();
            Column {
                initial,
                name: format!(
                    "Week of {} {} {}",
                    week.day(),
                    MONTHS[week.month0() as usize],
                    week.year()
                ),
                stack,
                links,
            }
        })
        .collect()
}

/// An average as the charts write it ("—" for none).
fn average(places: usize) -> impl Fn(f64) -> String {
    move |value| {
        if value > 0.0 {
            format!("{value:.places$}")
        } else {
            "—".to_owned()
        }
    }
}

/// Every chart of the page, or only the one whose id (without "-chart") is `only`: a CSV
/// download builds the cells and links of its own chart alone.
fn charts(figures: &Figures, asked: &Asked, segment_query: &str, only: Option<&str>) -> Vec<Chart> {
    let wanted = |id: &str| only.is_none_or(|only| only == id.trim_end_matches("-chart"));
    let channel = asked.channel.as_str();
    let wide = figures.weeks.len() <= 12;
    let channel_part = if channel.is_empty() {
        String::new()
    } else {
        format!("&channel={channel}")
    };
    let prefix = customers_prefix(asked, segment_query);
    let link = |extra: String| format!("{prefix}{extra}");
    let csv = |id: &str| format!("/insights/{id}.csv?{}", asked.query());
    let weekly = |id: &'static str, title: &'static str, series: Vec<String>, columns| {
        Chart::new(id, title, series, columns, whole, None, wide)
            .with_csv(csv(id.trim_end_matches("-chart")))
    };
    let mut charts = Vec::new();
    // New and active customers: a bar a week, to that week's customers (created, or last
    // in touch).
    let per_week = |id, title, label: &str, metric, on_contact| {
        weekly(
            id,
            title,
            vec![label.to_owned()],
            week_columns(figures, |week| {
                let value = figures.get(week, metric, channel) as f64;
                let period = week_period(week, on_contact);
                vec![(value, link(format!("{period}{channel_part}")))]
            }),
        )
        .described("Week", "Nothing in this period.")
    };
    for (id, title, label, metric, on_contact) in [
        (
            "new-customers-chart",
            "New customers per week",
            "New customers",
            metric::NEW,
            false,
        ),
        (
            "active-customers-chart",
            "Active customers per week (with a conversation)",
            "Active customers",
            metric::ACTIVE,
            true,
        ),
    ] {
        if wanted(id) {
            charts.push(per_week(id, title, label, metric, on_contact));
        }
    }
    // Stages over time: each week as last counted in it.
    if wanted("stages-chart") {
        charts.push(
            weekly(
                "stages-chart",
                "Customers per lifecycle stage (as counted each week)",
                Lifecycle::ALL
                    .iter()
                    .map(|s| s.label().to_owned())
                    .collect(),
                week_columns(figures, |week| {
                    let counts = figures.stages(week, channel);
                    Lifecycle::ALL
                        .iter()
                        .zip(counts)
                        .map(|(stage, n)| {
                            let extra =
                                format!("period=all&lifecycle={}{channel_part}", stage.as_str());
                            (n as f64, link(extra))
                        })
                        .collect()
                }),
            )
            .described(
                "Week",
                "Stages are counted once the figures are built each day.",
            ),
        );
    }
    // Channel mix: conversations per week by channel.
    if wanted("channels-chart") {
        let mix: Vec<String> = if channel.is_empty() {
            figures.channels()
        } else {
            vec![channel.to_owned()]
        };
        charts.push(
            weekly(
                "channels-chart",
                "Conversations per week, by channel",
                mix.iter().map(|c| channel_label(c).to_owned()).collect(),
                week_columns(figures, |week| {
                    let period = week_period(week, true);
                    mix.iter()
                        .map(|c| {
                            let value = figures.get(week, metric::CONVERSATIONS, c) as f64;
                            (value, link(format!("{period}&channel={c}")))
                        })
                        .collect()
                }),
            )
            .described("Week", "No conversations in this period."),
        );
    }
    // Satisfaction: how the period's ratings spread, and the average per week.
    if wanted("ratings-chart") {
        let spread = figures.rating_counts(channel);
        let (first, last) = (
            figures.weeks.first().copied().unwrap_or_default(),
            figures.weeks.last().copied().unwrap_or_default() + TimeDelta::days(6),
        );
        let columns = (1..=5)
            .map(|stars: usize| {
                // The customers in touch in the period whose average is about this rating.
                let upper = if stars == 5 {
                    "5".to_owned()
                } else {
                    format!("{stars}.99")
                };
                let extra = format!(
                    "period=custom&from={first}&to={last}&on=last_contact\
                     &f=csat_average%3Abetween%3A{stars}%7C{upper}{channel_part}"
                );
                Column {
                    initial: stars.to_string(),
                    name: format!("{stars} of 5"),
                    stack: vec![spread[stars - 1] as f64],
                    links: vec![Some(link(extra))],
                }
            })
            .collect();
        charts.push(
            Chart::new(
                "ratings-chart",
                "Ratings in the period",
                vec!["Conversations rated".to_owned()],
                columns,
                whole,
                None,
                true,
            )
            .described("Rating", "No ratings in this period.")
            .with_csv(csv("ratings")),
        );
    }
    if wanted("satisfaction-chart") {
        let columns = week_columns(figures, |week| {
            let value = figures.average_rating(week, channel).unwrap_or(0.0);
            let extra = format!(
                "{}&f=csat_average%3Anot_empty{channel_part}",
                week_period(week, true)
            );
            vec![(value, link(extra))]
        });
        charts.push(
            Chart::new(
                "satisfaction-chart",
                "Average satisfaction per week (1–5)",
                vec!["Average rating".to_owned()],
                columns,
                average(2),
                Some(5.0),
                wide,
            )
            .described("Week", "No ratings in this period.")
            .with_csv(csv("satisfaction")),
        );
    }
    if wanted("answers-chart") {
        let columns = week_columns(figures, |week| {
            let value = figures.average_answer_minutes(week, channel).unwrap_or(0.0);
            vec![(
                value,
                link(format!("{}{channel_part}", week_period(week, true))),
            )]
        });
        charts.push(
            Chart::new(
                "answers-chart",
                "Average time to the first answer per week (minutes)",
                vec!["Minutes".to_owned()],
                columns,
                average(1),
                None,
                wide,
            )
            .described("Week", "No conversation was answered in this period.")
            .with_csv(csv("answers")),
        );
    }
    charts
}
