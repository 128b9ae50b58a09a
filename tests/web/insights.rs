//! `/insights`: summary rows that equal a recount after a build, a refresh of the current
//! week and a daily rebuild; filters by tag, segment and channel; links to the matching
//! Customers filter; CSV downloads; supervisors only.

use chrono::TimeDelta;
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::json;

use clientele::db::insights::{insight_counts, insight_slices};
use clientele::db::listing::CustomerFilter;
use clientele::db::schema::{conversations, customers, messages};
use clientele::db::types::ConversationId;
use clientele::domain::insights::{Figures, FiguresKept, SliceKey, metric, week_key, week_of};
use clientele::services::insights;

use crate::helpers::TestApp;
use crate::helpers::spawn_app;

/// Asks for a rebuild (`rebuild`) or a refresh of `slice` and waits until the worker did it.
async fn settle(app: &TestApp, slice: &str, rebuild: bool) {
    // A build under way may have walked past what the test just wrote: let it finish.
    wait_ready(app, slice, None).await;
    let long_ago = chrono::Utc::now().naive_utc() - TimeDelta::days(3);
    app.with_db(|conn| {
        if rebuild {
            clientele::db::insights::ask_rebuild(conn, slice)
        } else {
            clientele::db::insights::ask_refresh(conn, slice, long_ago)
        }
        .expect("slice marked")
    });
    wait_ready(app, slice, Some(long_ago)).await;
}

/// Waits until `slice` is built and refreshed after `since`.
pub async fn wait_ready(app: &TestApp, slice: &str, since: Option<chrono::NaiveDateTime>) {
    for _ in 0..600 {
        let (phase, refreshed): (String, Option<chrono::NaiveDateTime>) = app.with_db(|conn| {
            insight_slices::table
                .find(slice)
                .select((insight_slices::phase, insight_slices::refreshed_at))
                .first(conn)
                .expect("slice")
        });
        if phase == "ready" && refreshed.is_some_and(|at| since.is_none_or(|since| at > since)) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the slice {slice} was not brought up to date");
}

/// Everyone's figures of the last `weeks` weeks, as the page reads them (through `kept`).
fn read_figures(
    conn: &mut clientele::db::DbConnection,
    kept: &FiguresKept,
    weeks: i64,
    channel: &str,
) -> std::sync::Arc<Figures> {
    let everyone = SliceKey::default();
    let state = insights::open(conn, everyone, &CustomerFilter::default()).expect("state");
    insights::figures(conn, kept, everyone, &state, weeks, channel)
        .expect("figures")
        .expect("built")
}

/// What the figures say for one week, against a recount from the tables themselves.
fn check_week(app: &TestApp, kept: &FiguresKept, week_offset: i64) {
    app.with_db(|conn| {
        let zone = clientele::services::settings::org_zone(conn).expect("zone");
        let now = chrono::Utc::now().naive_utc();
        let week = week_of(zone, now) - TimeDelta::weeks(week_offset);
        let (from, until) = clientele::domain::insights::week_bounds(zone, week);
        let figures = read_figures(conn, kept, 12, "whatsapp");
        let new: i64 = customers::table
            .filter(customers::created_at.ge(from))
            .filter(customers::created_at.lt(until))
            .count()
            .get_result(conn)
            .expect("recount");
        assert_eq!(
            figures.get(week, metric::NEW, ""),
            new,
            "new, week -{week_offset}"
        );
        let started = conversations::table
            .filter(conversations::started_at.ge(from))
            .filter(conversations::started_at.lt(until))
            .filter(conversations::customer_id.is_not_null());
        let all: i64 = started.count().get_result(conn).expect("recount");
        assert_eq!(figures.get(week, metric::CONVERSATIONS, ""), all);
        let on_whatsapp: i64 = started
            .filter(conversations::channel.eq("whatsapp"))
            .count()
            .get_result(conn)
            .expect("recount");
        assert_eq!(
            figures.get(week, metric::CONVERSATIONS, "whatsapp"),
            on_whatsapp
        );
        let active: Vec<Option<i64>> = started
            .select(conversations::customer_id)
            .distinct()
            .load::<Option<clientele::db::types::CustomerId>>(conn)
            .expect("recount")
            .into_iter()
            .map(|id| id.map(|i| i.0))
            .collect();
        assert_eq!(figures.get(week, metric::ACTIVE, ""), active.len() as i64);
        let fives: i64 = started
            .filter(conversations::rating.eq(5))
            .count()
            .get_result(conn)
            .expect("recount");
        assert_eq!(figures.get(week, &metric::rating(5), ""), fives);
        // Answered: staff wrote in it; the time from its start to their first message.
        let mut answered = 0;
        let mut seconds = 0;
        let talks: Vec<(ConversationId, chrono::NaiveDateTime)> = started
            .select((conversations::id, conversations::started_at))
            .load(conn)
            .expect("recount");
        for (id, started_at) in talks {
            let first: Option<chrono::NaiveDateTime> = messages::table
                .filter(messages::conversation_id.eq(Some(id)))
                .filter(messages::author_kind.eq("agent"))
                .select(diesel::dsl::min(messages::sent_at))
                .first(conn)
                .expect("recount");
            if let Some(first) = first {
                answered += 1;
                seconds += (first - started_at).num_seconds().max(0);
            }
        }
        assert_eq!(figures.get(week, metric::ANSWERED, ""), answered);
        assert_eq!(figures.get(week, metric::ANSWER_SECONDS, ""), seconds);
        if week_offset == 0 {
            assert!(answered > 0, "an answered conversation this week");
        }
    });
}

fn stages_now(app: &TestApp, kept: &FiguresKept) -> (i64, i64) {
    app.with_db(|conn| {
        let zone = clientele::services::settings::org_zone(conn).expect("zone");
        let week = week_of(zone, chrono::Utc::now().naive_utc());
        let figures = read_figures(conn, kept, 4, "");
        let vip: i64 = customers::table
            .filter(customers::lifecycle.eq("vip"))
            .count()
            .get_result(conn)
            .expect("recount");
        (figures.get(week, &metric::stage("vip"), ""), vip)
    })
}

#[tokio::test]
async fn the_summary_rows_equal_a_recount_after_a_build_a_refresh_and_a_rebuild() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let mut talks = Vec::new();
    for (n, channel) in ["whatsapp", "sms", "whatsapp"].iter().enumerate() {
        let phone = format!("+38591234567{n}");
        app.create_customer(&[("phone", phone.as_str())]);
        let answer = app
            .inbound(
                &token,
                json!({"channel": channel, "external_id": phone, "text": "Hi"}),
            )
            .await;
        talks.push(ConversationId(
            answer["conversation_id"].as_i64().expect("id"),
        ));
    }
    // One customer and one conversation three weeks back.
    let three_weeks = chrono::Utc::now().naive_utc() - TimeDelta::weeks(3);
    app.with_db(|conn| {
        clientele::db::conversations::update_rating(conn, talks[0], 5).expect("rated");
        diesel::update(conversations::table.find(talks[2]))
            .set(conversations::started_at.eq(three_weeks))
            .execute(conn)
            .expect("moved back");
        let first: clientele::db::types::CustomerId = customers::table
            .select(customers::id)
            .order(customers::id.asc())
            .first(conn)
            .expect("a customer");
        diesel::update(customers::table.find(first))
            .set(customers::created_at.eq(three_weeks))
            .execute(conn)
            .expect("moved back");
    });
    // Staff answer the first conversation.
    let supervisor = app.supervisor().await;
    let response = supervisor
        .post_form(
            &format!("/conversations/{}/reply", talks[0].0),
            &[("text", "Hello, how can we help?")],
        )
        .await;
    assert!(response.status().is_redirection(), "{}", response.status());
    // The figures are read as the page reads them, kept between reads: a refresh or a
    // rebuild must show through.
    let kept = FiguresKept::default();
    settle(&app, "all", true).await;
    check_week(&app, &kept, 0);
    check_week(&app, &kept, 3);

    // New customers and conversations this week: the refresh counts the week again.
    app.create_customer(&[("name", "Late"), ("phone", "+385919999999")]);
    let answer = app
        .inbound(
            &token,
            json!({"channel": "whatsapp", "external_id": "+385919999999", "text": "Hi"}),
        )
        .await;
    app.with_db(|conn| {
        let id = ConversationId(answer["conversation_id"].as_i64().expect("id"));
        clientele::db::conversations::update_rating(conn, id, 5).expect("rated");
        diesel::update(customers::table)
            .set(customers::lifecycle.eq("vip"))
            .execute(conn)
            .expect("stages");
    });
    settle(&app, "all", false).await;
    check_week(&app, &kept, 0);
    let (counted, recounted) = stages_now(&app, &kept);
    assert_ne!(counted, recounted, "stages wait for the daily count");

    // A past week's stages survive the rebuild, which counts this week's again.
    let zone = app
        .with_db(clientele::services::settings::org_zone)
        .expect("zone");
    let past = week_key(week_of(zone, three_weeks));
    app.with_db(|conn| {
        diesel::insert_into(insight_counts::table)
            .values((
                insight_counts::slice.eq("all"),
                insight_counts::week.eq(&past),
                insight_counts::metric.eq("stage_vip"),
                insight_counts::channel.eq(""),
                insight_counts::value.eq(7_i64),
            ))
            .execute(conn)
            .expect("an old count");
    });
    settle(&app, "all", true).await;
    check_week(&app, &kept, 0);
    check_week(&app, &kept, 3);
    let (counted, recounted) = stages_now(&app, &kept);
    assert_eq!(counted, recounted);
    let old_stage: i64 = app.with_db(|conn| {
        insight_counts::table
            .filter(insight_counts::slice.eq("all"))
            .filter(insight_counts::week.eq(&past))
            .filter(insight_counts::metric.eq("stage_vip"))
            .select(insight_counts::value)
            .first(conn)
            .expect("kept")
    });
    assert_eq!(old_stage, 7);

    // Kept figures are read again only when their slice is refreshed: a row changed
    // behind the worker's back shows after the next refresh, not before.
    let week = week_of(zone, three_weeks);
    let before = app.with_db(|conn| read_figures(conn, &kept, 4, "").get(week, metric::NEW, ""));
    app.with_db(|conn| {
        diesel::update(
            insight_counts::table
                .filter(insight_counts::slice.eq("all"))
                .filter(insight_counts::week.eq(&past))
                .filter(insight_counts::metric.eq(metric::NEW))
                .filter(insight_counts::channel.eq("")),
        )
        .set(insight_counts::value.eq(before + 40))
        .execute(conn)
        .expect("changed behind the worker's back")
    });
    let again = app.with_db(|conn| read_figures(conn, &kept, 4, "").get(week, metric::NEW, ""));
    assert_eq!(again, before, "kept until the next refresh");
    settle(&app, "all", false).await;
    let refreshed = app.with_db(|conn| read_figures(conn, &kept, 4, "").get(week, metric::NEW, ""));
    assert_eq!(refreshed, before + 40, "read again after the refresh");
}

/// Opens `/insights?{query}` until its figures are there; returns the page.
async fn ready_page(app: &TestApp, browser: &crate::helpers::Browser, query: &str) -> String {
    for _ in 0..600 {
        let page = browser.page(&format!("/insights?{query}")).await;
        if page.contains("id=\"insights-updated\"") {
            return page.replace("&#38;", "&");
        }
        assert!(page.contains("being prepared"), "{page}");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let _ = app;
    panic!("the figures for {query} never came");
}

#[tokio::test]
async fn filters_by_tag_segment_and_channel_link_to_customers_and_download_as_csv() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let supervisor = app.supervisor().await;
    let response = supervisor
        .post_form("/settings/tags", &[("name", "Gold"), ("color", "#c0352b")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let gold = app.with_db(|conn| clientele::db::tags::list_tags(conn).expect("tags")[0].id);
    let mut rated = String::new();
    for (n, channel) in ["whatsapp", "sms", "voice"].iter().enumerate() {
        let phone = format!("+38598765432{n}");
        let customer = app.create_customer(&[("phone", phone.as_str()), ("city", "Split")]);
        if n == 0 {
            let response = supervisor
                .post_form(
                    &format!("/customers/{customer}/tags"),
                    &[("tag_id", &gold.0.to_string())],
                )
                .await;
            assert_eq!(response.status(), StatusCode::SEE_OTHER);
        }
        let answer = app
            .inbound(
                &token,
                json!({"channel": channel, "external_id": phone, "text": "Hi"}),
            )
            .await;
        if n == 0 {
            let id = ConversationId(answer["conversation_id"].as_i64().expect("id"));
            app.with_db(|conn| clientele::services::conversations::rate(conn, id, 5))
                .expect("rated");
            rated = customer.clone();
        }
    }
    app.create_customer(&[("name", "Elsewhere"), ("city", "Zagreb")]);
    app.with_db(|conn| {
        clientele::db::segments::insert_segment(
            conn,
            "From Split",
            "f=city%3Aequals%3ASplit&period=this_week",
            "test",
        )
        .expect("segment")
    });
    let segment =
        app.with_db(|conn| clientele::db::segments::list_segments(conn).expect("segments")[0].id);

    // Everyone's figures were built when the app started: count this week again.
    settle(&app, "all", false).await;
    let everyone = ready_page(&app, &supervisor, "weeks=4").await;
    let zone = app
        .with_db(clientele::services::settings::org_zone)
        .expect("zone");
    let week = week_of(zone, chrono::Utc::now().naive_utc());
    let week_name = format!("Week of {}", week.format("%-d %b %Y"));
    assert!(
        everyone.contains(&format!("<title>{week_name}: 4</title>")),
        "4 new customers: {}",
        everyone
            .split("<title>")
            .skip(2)
            .take(6)
            .collect::<Vec<_>>()
            .join("|")
    );
    let to = week + TimeDelta::days(6);
    assert!(everyone.contains(&format!(
        "href=\"/customers?whose=all&period=custom&from={week}&to={to}\""
    )));

    // The five-star bar opens the customers in touch whose average is five.
    let five = everyone
        .split("<a href=\"")
        .find(|part| part.contains("csat_average%3Abetween%3A5%7C5"))
        .and_then(|part| part.split('"').next())
        .expect("a link from the five-star bar")
        .to_owned();
    let customers = supervisor.page(&five).await;
    assert!(customers.contains(&rated), "{five}");
    assert!(!customers.contains("Elsewhere"));

    let tagged = ready_page(&app, &supervisor, &format!("weeks=4&tag={}", gold.0)).await;
    assert!(
        tagged.contains(&format!("<title>{week_name}: 1</title>")),
        "one Gold customer"
    );
    assert!(tagged.contains(&format!("/customers?tag={}&whose=all", gold.0)));

    let from_split = ready_page(&app, &supervisor, &format!("weeks=4&segment={}", segment.0)).await;
    assert!(
        from_split.contains(&format!("<title>{week_name}: 3</title>")),
        "three from Split"
    );

    let sms = ready_page(&app, &supervisor, "weeks=4&channel=sms").await;
    assert!(
        sms.contains(&format!("<title>{week_name}: 1</title>")),
        "one new SMS customer"
    );

    let response = supervisor.get("/insights/channels.csv?weeks=4").await;
    assert_eq!(response.status(), StatusCode::OK);
    let csv = response.text().await.expect("csv");
    assert!(csv.starts_with("Week,SMS,Voice,WhatsApp\n"), "{csv}");
    assert!(
        csv.contains(&format!("\"{week_name}\",1,1,1\n"))
            || csv.contains(&format!("{week_name},1,1,1\n")),
        "{csv}"
    );
    // Each chart's download gives that chart's own table.
    let downloads: Vec<String> = everyone
        .split("class=\"csv-link\"")
        .filter_map(|before| before.rsplit("<a href=\"").next())
        .filter_map(|link| link.split('"').next())
        .filter(|link| link.starts_with("/insights/"))
        .map(|link| link.replace("&amp;", "&"))
        .collect();
    assert_eq!(downloads.len(), 7, "{downloads:?}");
    for link in &downloads {
        let response = supervisor.get(link).await;
        assert_eq!(response.status(), StatusCode::OK, "{link}");
        let csv = response.text().await.expect("csv");
        let axis = if link.starts_with("/insights/ratings.csv") {
            "Rating,"
        } else {
            "Week,"
        };
        assert!(csv.starts_with(axis), "{link}: {csv}");
        assert!(csv.lines().count() > 4, "{link}: {csv}");
    }
    assert_eq!(
        supervisor
            .get("/insights/nothing.csv?weeks=4")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // What the page cannot read is left out, never refused: everyone's last 12 weeks.
    let odd = ready_page(
        &app,
        &supervisor,
        "weeks=7&channel=fax&tag=999999&segment=abc",
    )
    .await;
    assert!(odd.contains("<option value=\"12\" selected>"));
    assert!(
        odd.contains(&format!("<title>{week_name}: 4</title>")),
        "everyone's figures"
    );

    let agent = app.agent().await;
    assert_eq!(agent.get("/insights").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        agent.get("/insights/channels.csv").await.status(),
        StatusCode::FORBIDDEN
    );
}
