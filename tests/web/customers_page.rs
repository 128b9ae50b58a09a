//! The Customers page: the default week, filters, sorting and keyset pages.

use chrono::{Datelike, Duration, TimeZone};
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::json;

use clientele::db::schema::customers;

use crate::helpers::{TestApp, spawn_app};

fn set_created(app: &TestApp, public_id: &str, at: chrono::NaiveDateTime) {
    app.with_db(|conn| {
        diesel::update(customers::table.filter(customers::public_id.eq(public_id)))
            .set(customers::created_at.eq(at))
            .execute(conn)
            .expect("update");
    });
}

#[tokio::test]
async fn the_default_view_is_this_week_in_the_organisations_time_zone() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    // The time zone is picked from the IANA list as one types.
    let features = supervisor.page("/settings/features").await;
    assert!(
        features.contains("list=\"time-zones\"")
            && features.contains("<option value=\"Europe/Zagreb\">"),
        "a searchable list of time zones"
    );
    let response = supervisor
        .post_form("/settings/features", &[("time_zone", "Europe/Zagreb")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let zone: chrono_tz::Tz = "Europe/Zagreb".parse().unwrap();
    let today = zone
        .from_utc_datetime(&chrono::Utc::now().naive_utc())
        .date_naive();
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let local = |day: chrono::NaiveDate, h: u32, m: u32| {
        zone.from_local_datetime(&day.and_hms_opt(h, m, 0).unwrap())
            .unwrap()
            .naive_utc()
    };
    let sunday_night = app.create_customer(&[("name", "Sunday Night")]);
    set_created(
        &app,
        &sunday_night,
        local(monday - Duration::days(1), 23, 30),
    );
    let monday_morning = app.create_customer(&[("name", "Monday Morning")]);
    set_created(&app, &monday_morning, local(monday, 0, 30));
    let page = supervisor.page("/customers").await;
    assert!(page.contains("Monday Morning"));
    assert!(
        !page.contains("Sunday Night"),
        "last Sunday is not this week"
    );
    assert!(
        supervisor
            .page("/customers?period=all")
            .await
            .contains("Sunday Night")
    );
    let response = supervisor
        .post_form("/settings/features", &[("time_zone", "Mars/Olympus")])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_search_without_a_chosen_period_looks_at_any_time() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let older = app.create_customer(&[
        ("name", "Old Acquaintance"),
        ("email", "old.friend@example.com"),
    ]);
    set_created(
        &app,
        &older,
        chrono::Utc::now().naive_utc() - Duration::days(21),
    );
    // The list alone: this week's customers.
    assert!(
        !supervisor
            .page("/customers")
            .await
            .contains("Old Acquaintance")
    );
    // A search as the page's form sends it, the period left as it comes: any time.
    for search in ["name=acquaint", "email=old.friend", &format!("id={older}")] {
        let page = supervisor
            .page(&format!("/customers?period=&{search}"))
            .await;
        assert!(page.contains("Old Acquaintance"), "{search}");
    }
    // A period chosen still applies to a search.
    assert!(
        !supervisor
            .page("/customers?period=this_week&name=acquaint")
            .await
            .contains("Old Acquaintance")
    );
}

#[tokio::test]
async fn each_filter_narrows_the_list() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    let supervisor = app.supervisor().await;
    app.with_db(|conn| {
        clientele::db::tags::insert_tag(conn, "VIP", "#c0352b").unwrap();
        clientele::db::tags::insert_tag(conn, "Enterprise", "#2456d6").unwrap();
    });
    let tags = app.with_db(|conn| clientele::db::tags::list_tags(conn).unwrap());
    let (enterprise, vip) = (tags[0].id, tags[1].id);
    let ada = app.create_customer(&[
        ("name", "Ada Lovelace"),
        ("email", "ada@example.com"),
        ("phone", "+385911111111"),
    ]);
    let bob = app.create_customer(&[
        ("name", "Bob Builder"),
        ("email", "bob@builders.example"),
        ("phone", "+385922222222"),
    ]);
    let cyd = app.create_customer(&[("name", "Cyd Charisse")]);
    for (customer, tag) in [(&ada, vip), (&ada, enterprise), (&bob, vip)] {
        let id = app.customer(customer).id;
        app.with_db(|conn| clientele::db::tags::add_customer_tag(conn, id, tag).unwrap());
    }
    app.inbound(
        &token,
        json!({"channel": "whatsapp", "external_id": "+385911111111", "text": "Hi"}),
    )
    .await;
    let stage = app.customer(&cyd).id;
    app.with_db(|conn| clientele::db::customers::update_lifecycle(conn, stage, "vip").unwrap());
    let row = app.customer(&bob);
    app.with_db(|conn| {
        clientele::services::conversations::set_blacklisted(
            conn,
            row.id,
            Some("Spam"),
            &clientele::domain::customer::Actor::System,
        )
        .unwrap()
    });

    let shown = |html: &str| -> Vec<&'static str> {
        [
            ("Ada Lovelace", "ada"),
            ("Bob Builder", "bob"),
            ("Cyd Charisse", "cyd"),
        ]
        .into_iter()
        .filter(|(name, _)| html.contains(name))
        .map(|(_, short)| short)
        .collect()
    };
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("name=LOVE".into(), vec!["ada"]),
        (format!("id={}", &bob[bob.len() - 3..]), vec!["bob"]),
        ("email=builders".into(), vec!["bob"]),
        ("phone=911".into(), vec!["ada"]),
        ("channel=whatsapp".into(), vec!["ada"]),
        ("lifecycle=vip".into(), vec!["cyd"]),
        ("blacklisted=yes".into(), vec!["bob"]),
        ("blacklisted=no".into(), vec!["ada", "cyd"]),
        (format!("tag={vip}"), vec!["ada", "bob"]),
        (
            format!("tag={vip}&tag={enterprise}&tag_mode=all"),
            vec!["ada"],
        ),
        (
            format!("tag={vip}&tag={enterprise}&tag_mode=any"),
            vec!["ada", "bob"],
        ),
        ("on=last_contact&period=today".into(), vec!["ada"]),
        ("period=custom&from=2000-01-01&to=2000-01-02".into(), vec![]),
    ];
    for (query, expected) in cases {
        let html = supervisor.page(&format!("/customers?{query}")).await;
        assert_eq!(shown(&html), expected, "{query}");
    }
    let html = supervisor.page("/customers?name=ada").await;
    assert!(html.contains("value=\"ada\""), "filters stay in the form");
    assert!(html.contains("1 customer"));
    let response = supervisor
        .get("/customers?period=custom&from=last+week")
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn keyset_pages_have_no_gaps_or_repeats_while_customers_arrive() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let mut existing = Vec::new();
    for i in 0..60 {
        existing.push(app.create_customer(&[("name", &format!("Customer {i:02}"))]));
    }
    for sort in [
        "created&dir=desc",
        "created&dir=asc",
        "updated&dir=desc",
        "conversations&dir=desc",
        "name&dir=asc",
        "name&dir=desc",
        "last_contact&dir=desc",
        "satisfaction&dir=asc",
    ] {
        let mut seen: Vec<String> = Vec::new();
        let mut path = format!("/customers?period=all&size=25&sort={sort}");
        for _ in 0..20 {
            let html = supervisor.page(&path).await;
            for part in html.split("<td class=\"mono\">").skip(1) {
                seen.push(part[..part.find('<').unwrap()].to_owned());
            }
            // Someone creates a customer between two pages.
            app.create_customer(&[("name", "Newcomer")]);
            match html.find("id=\"next-page\"") {
                Some(anchor) => {
                    let start = html[..anchor].rfind("href=\"").unwrap() + 6;
                    let end = start + html[start..].find('"').unwrap();
                    path = html[start..end].replace("&#38;", "&").replace("&amp;", "&");
                }
                None => break,
            }
        }
        assert!(seen.len() < 25 * 20, "{sort}: paging ends");
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "{sort}: no customer twice");
        for customer in &existing {
            assert!(
                seen.contains(customer),
                "{sort}: {customer} was not skipped"
            );
        }
    }
}

#[tokio::test]
async fn columns_hidden_from_agents_never_appear_for_them() {
    let app = spawn_app().await;
    app.set_customers_page_for_agents(true);
    app.create_customer(&[("name", "Ada"), ("email", "ada@example.com")]);
    app.with_db(|conn| {
        use clientele::db::schema::properties::dsl::*;
        diesel::update(properties.filter(key.eq("email")))
            .set(agent_access.eq("hidden"))
            .execute(conn)
            .unwrap();
    });
    let agent = app.agent().await;
    let html = agent.page("/customers?whose=all").await;
    assert!(html.contains("Ada"));
    assert!(!html.contains("ada@example.com"), "no hidden value");
    assert!(
        !html.contains("<th scope=\"col\">E-mail</th>"),
        "no hidden column"
    );
    assert!(
        !html.contains("id=\"f-email\""),
        "no filter on a hidden property"
    );
    let probe = agent
        .page("/customers?whose=all&email=nobody-has-this")
        .await;
    assert!(
        probe.contains("Ada"),
        "a crafted filter on a hidden property is ignored, revealing nothing"
    );
    let supervisor = app.supervisor().await;
    assert!(
        supervisor
            .page("/customers")
            .await
            .contains("ada@example.com")
    );
}

#[tokio::test]
async fn segments_are_saved_by_staff_shared_and_managed_by_supervisors() {
    let app = spawn_app().await;
    app.set_customers_page_for_agents(true);
    app.create_customer(&[("name", "Ada Lovelace")]);
    app.create_customer(&[("name", "Bob Builder")]);
    let agent = app.agent().await;
    let response = agent
        .post_form(
            "/customers/segments",
            &[("name", "The Adas"), ("query", "period=all&name=ada")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = agent
        .post_form(
            "/customers/segments",
            &[("name", "the adas"), ("query", "period=all")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        agent
            .page("/customers")
            .await
            .contains("A segment with this name exists already.")
    );

    let supervisor = app.supervisor().await;
    let page = supervisor.page("/customers").await;
    let start = page.find("id=\"segments\"").unwrap();
    let href_start = page[start..].find("href=\"").unwrap() + start + 6;
    let href = page[href_start..href_start + page[href_start..].find('"').unwrap()]
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    let segment_view = supervisor.page(&href).await;
    assert!(
        segment_view.contains("Ada Lovelace") && !segment_view.contains("Bob Builder"),
        "the segment reopens its filter"
    );
    assert!(
        page.contains("by ana.agent display"),
        "shared with the team"
    );

    let id = app.with_db(|conn| clientele::db::segments::list_segments(conn).unwrap()[0].id);
    assert_eq!(
        agent
            .post_form(&format!("/customers/segments/{id}/delete"), &[])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        agent
            .post_form(&format!("/customers/segments/{id}"), &[("name", "Mine")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    supervisor
        .post_form(
            &format!("/customers/segments/{id}"),
            &[("name", "Lovelaces")],
        )
        .await;
    assert!(supervisor.page("/customers").await.contains(">Lovelaces<"));
    supervisor
        .post_form(&format!("/customers/segments/{id}/delete"), &[])
        .await;
    assert!(
        app.with_db(|conn| clientele::db::segments::list_segments(conn).unwrap())
            .is_empty()
    );
}

#[tokio::test]
async fn agents_start_from_the_customers_they_served_and_may_switch_to_all() {
    let app = spawn_app().await;
    app.set_customers_page_for_agents(true);
    let token = app.api_token("gw-served");
    let served = app.create_customer(&[("name", "Served Sara"), ("phone", "+385912345678")]);
    let other = app.create_customer(&[("name", "Other Olga")]);
    let conversation = app
        .inbound(
            &token,
            serde_json::json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "Hi"}),
        )
        .await["conversation_id"]
        .as_i64()
        .expect("a conversation");
    let agent = app.agent().await;
    let mine = agent.page("/customers?period=all").await;
    assert!(
        !mine.contains(&served) && !mine.contains(&other),
        "nobody served yet"
    );
    agent
        .post_form(
            &format!("/conversations/{conversation}/reply"),
            &[("text", "Hello Sara")],
        )
        .await;
    let mine = agent.page("/customers?period=all").await;
    assert!(mine.contains(&served) && !mine.contains(&other));
    assert!(mine.contains("<option value=\"mine\" selected>"));
    let all = agent.page("/customers?period=all&whose=all").await;
    assert!(all.contains(&served) && all.contains(&other));
    // Supervisors start from everyone.
    let supervisor = app.supervisor().await;
    let everyone = supervisor.page("/customers?period=all").await;
    assert!(everyone.contains(&served) && everyone.contains(&other));
}
