//! The Customers page's total: exact when it is cheap (the first page holds everything,
//! the stage counters, a bounded candidate list), otherwise an estimate near the truth —
//! and bulk changes always act on the exact set.

use clientele::db::schema::{customer_counts, customer_values, customers, properties};
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::spawn_app;

/// The number in "about 1,200 customers" or "1,200 customers".
fn said_total(html: &str) -> (bool, i64) {
    let start = html.find("id=\"total\">").expect("a total") + "id=\"total\">".len();
    let text = &html[start..start + html[start..].find('<').expect("end of total")];
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    (text.starts_with("about"), digits.parse().expect("a number"))
}

#[tokio::test]
async fn the_total_comes_from_counters_kept_by_every_write() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let token = app.api_token("crm");
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(app.create_customer(&[("name", &format!("Counted {i}"))]));
    }
    // More than a page: the total cannot come from the page itself.
    let page = supervisor.page("/customers?period=all&size=25").await;
    assert!(page.contains("id=\"next-page\""), "{page}");
    assert_eq!(said_total(&page), (false, 30));

    for id in &ids[..27] {
        make_vip(&app, &token, id).await;
    }
    let vip = supervisor
        .page("/customers?period=all&size=25&lifecycle=vip")
        .await;
    assert_eq!(said_total(&vip), (false, 27));
    // A merge removes the duplicate's row.
    let response = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/customers/{}/merge", ids[1]),
            &token,
            Some(json!({"duplicate": ids[0]})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let vip = supervisor
        .page("/customers?period=all&size=25&lifecycle=vip")
        .await;
    assert_eq!(said_total(&vip), (false, 26));
    let all = supervisor.page("/customers?period=all&size=25").await;
    assert_eq!(said_total(&all), (false, 29));
    let counted: i64 =
        app.with_db(|conn| customers::table.count().get_result(conn).expect("count"));
    assert_eq!(counted, 29);
    let stages: Vec<(String, i64)> = app.with_db(|conn| {
        customer_counts::table
            .select((customer_counts::lifecycle, customer_counts::customers))
            .order(customer_counts::lifecycle.asc())
            .load(conn)
            .expect("counters")
    });
    assert_eq!(
        stages,
        vec![("prospect".to_owned(), 3), ("vip".to_owned(), 26)],
        "kept by every write"
    );
}

/// Moves a customer to the VIP stage through the API.
async fn make_vip(app: &crate::helpers::TestApp, token: &str, id: &str) {
    let response = app
        .api(
            reqwest::Method::PATCH,
            &format!("/api/v1/customers/{id}"),
            token,
            Some(json!({"lifecycle": "vip"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// The generated `score` property's id.
pub(crate) fn score_property(conn: &mut clientele::db::DbConnection) -> i64 {
    properties::table
        .filter(properties::key.eq("score"))
        .select(properties::id)
        .first(conn)
        .expect("score")
}

#[tokio::test]
async fn an_estimated_total_is_near_the_truth_and_bulk_changes_count_exactly() {
    let app = spawn_app().await;
    // Generated first: the test's server waits meanwhile, and a browser's idle connection
    // would be dropped under it.
    app.with_db(|conn| clientele::db::generate::generate(conn, 6_000, 7))
        .expect("customers generated");
    let supervisor = app.supervisor().await;
    let truth: i64 = app.with_db(|conn| {
        customers::table
            .filter(customers::lifecycle.eq("vip"))
            .filter(customers::blacklisted.eq(false))
            .count()
            .get_result(conn)
            .expect("count")
    });
    let query = "period=all&lifecycle=vip&blacklisted=no";
    let page = supervisor.page(&format!("/customers?{query}")).await;
    let (about, said) = said_total(&page);
    assert!(about, "a total the counters cannot give is an estimate");
    assert!(
        (said - truth).abs() * 4 <= truth,
        "estimate {said} is within a quarter of {truth}"
    );
    // Remembered for a minute, for every instance: the next read takes it back as it is.
    let remembered = || {
        clientele::db::schema::remembered_totals::table
            .filter(clientele::db::schema::remembered_totals::more_than.eq(false))
    };
    app.with_db(|conn| {
        diesel::update(remembered())
            .set(clientele::db::schema::remembered_totals::total.eq(4_321))
            .execute(conn)
    })
    .expect("one estimate remembered");
    let page = supervisor.page(&format!("/customers?{query}")).await;
    assert_eq!(said_total(&page), (true, 4_321));
    // Past its minute.
    let make_old = || {
        app.with_db(|conn| {
            diesel::update(remembered())
                .set(
                    clientele::db::schema::remembered_totals::computed_at
                        .eq(clientele::db::now() - chrono::TimeDelta::seconds(61)),
                )
                .execute(conn)
        })
        .expect("made old")
    };
    make_old();
    // Found old by two requests at once: the first takes its remaking, the other reads the
    // old estimate meanwhile instead of sampling too.
    let (key, seen_at) = app.with_db(|conn| {
        remembered()
            .select((
                clientele::db::schema::remembered_totals::filter_key,
                clientele::db::schema::remembered_totals::computed_at,
            ))
            .first::<(String, chrono::NaiveDateTime)>(conn)
            .expect("the estimate")
    });
    let taken = app.with_db(|conn| {
        [0, 1].map(|_| clientele::db::listing::take_remaking(conn, &key, seen_at).expect("a claim"))
    });
    assert_eq!(taken, [true, false], "one request remakes it");
    let page = supervisor.page(&format!("/customers?{query}")).await;
    assert_eq!(said_total(&page), (true, 4_321), "the old one, meanwhile");
    // A remaking that never finished is taken over once its time is up.
    make_old();
    let page = supervisor.page(&format!("/customers?{query}")).await;
    assert_eq!(
        said_total(&page),
        (true, said),
        "sampled again, as the first time"
    );
    // A condition many hold is tested row by row on the page: the same rows, in order.
    let page = supervisor
        .page("/customers?period=all&size=25&f=score:at_least:50")
        .await;
    let (about, _) = said_total(&page);
    assert!(about);
    let expected: Vec<String> = app.with_db(|conn| {
        let score = score_property(conn);
        customers::table
            .filter(
                customers::id.eq_any(
                    customer_values::table
                        .filter(customer_values::property_id.eq(score))
                        .filter(customer_values::value_number.ge(50.0))
                        .select(customer_values::customer_id),
                ),
            )
            .order((customers::created_at.desc(), customers::id.desc()))
            .select(customers::public_id)
            .limit(25)
            .load(conn)
            .expect("holders")
    });
    let mut at = 0;
    for id in &expected {
        let found = page[at..]
            .find(&format!("href=\"/customers/{id}\""))
            .unwrap_or_else(|| panic!("{id} listed in order"));
        at += found + 1;
    }
    // A condition few hold: the sample's few hits are not trusted. Here the larger sample
    // would read the whole table, so the total is counted.
    let rare: i64 = app.with_db(|conn| {
        let score = score_property(conn);
        customer_values::table
            .filter(customer_values::property_id.eq(score))
            .filter(customer_values::value_number.ge(99.0))
            .count()
            .get_result(conn)
            .expect("holders")
    });
    assert!(
        rare > 50 && rare < 150,
        "about 1 % hold a score of 99: {rare}"
    );
    let page = supervisor
        .page("/customers?period=all&size=25&f=score:at_least:99")
        .await;
    assert_eq!(said_total(&page), (false, rare));
    // The count is the next minute's estimate: the next requests read it back instead of
    // counting again, and so do not see a change made meanwhile.
    let rare_key = |conn: &mut clientele::db::DbConnection| {
        use clientele::db::schema::remembered_totals;
        remembered_totals::table
            .filter(remembered_totals::total.eq(rare))
            .select(remembered_totals::filter_key)
            .load::<String>(conn)
            .expect("remembered")
    };
    let keys = app.with_db(rare_key);
    assert_eq!(keys.len(), 1, "the count remembered: {keys:?}");
    app.with_db(|conn| {
        let score = score_property(conn);
        let below: i64 = customer_values::table
            .filter(customer_values::property_id.eq(score))
            .filter(customer_values::value_number.lt(99.0))
            .select(customer_values::customer_id)
            .first(conn)
            .expect("a lower score");
        diesel::update(
            customer_values::table
                .filter(customer_values::property_id.eq(score))
                .filter(customer_values::customer_id.eq(below)),
        )
        .set(customer_values::value_number.eq(99.5))
        .execute(conn)
        .expect("one more holder")
    });
    let page = supervisor
        .page("/customers?period=all&size=25&f=score:at_least:99")
        .await;
    assert_eq!(said_total(&page), (true, rare), "read back, as an estimate");
    // Past its minute, one request counts again, and the change shows.
    app.with_db(|conn| {
        use clientele::db::schema::remembered_totals;
        diesel::update(remembered_totals::table.filter(remembered_totals::filter_key.eq(&keys[0])))
            .set(
                remembered_totals::computed_at
                    .eq(clientele::db::now() - chrono::TimeDelta::seconds(61)),
            )
            .execute(conn)
            .expect("made old")
    });
    let page = supervisor
        .page("/customers?period=all&size=25&f=score:at_least:99")
        .await;
    assert_eq!(said_total(&page), (false, rare + 1), "counted again");
    // Everyone: exact, from the counters.
    let all = supervisor.page("/customers?period=all&size=25").await;
    assert_eq!(said_total(&all), (false, 6_000));

    app.with_db(|conn| clientele::db::tags::insert_tag(conn, "Estimated", "gold"))
        .expect("tag");
    let tag = app
        .with_db(|conn| clientele::db::tags::list_tags(conn).expect("tags"))
        .into_iter()
        .find(|t| t.name == "Estimated")
        .expect("tag")
        .id
        .to_string();
    let response = supervisor
        .post_form(
            "/customers/bulk",
            &[
                ("query", query),
                ("action", "add_tag"),
                ("tag", &tag),
                ("scope", "all"),
            ],
        )
        .await;
    let confirm = response.text().await.expect("page");
    assert!(
        confirm.contains(&format!("for {truth} customers")),
        "the confirmation counts exactly: {truth}"
    );
}

#[tokio::test]
async fn a_load_with_its_indexes_set_aside_ends_as_one_written_row_by_row() {
    use clientele::db::generate::{SetAside, generate_building_indexes_after};
    fn terms(conn: &mut clientele::db::DbConnection) -> Vec<(i16, String, i64)> {
        use clientele::db::schema::customer_terms::dsl::*;
        use diesel::prelude::*;
        customer_terms
            .select((kind, term, customer_id))
            .order((kind, term, customer_id))
            .load(conn)
            .expect("terms")
    }
    let (staged, direct) = (spawn_app().await, spawn_app().await);
    let before = staged.with_db(|conn| {
        let aside = SetAside::take(conn).expect("set aside");
        let indexes = aside.indexes().to_vec();
        assert!(indexes.len() > 20, "the secondary indexes: {indexes:?}");
        let keys = aside.foreign_keys().to_vec();
        if matches!(conn, clientele::db::DbConnection::Postgresql(_)) {
            assert!(keys.len() >= 10, "the foreign keys: {keys:?}");
        }
        aside.restore(conn).expect("restored");
        (indexes, keys)
    });
    staged
        .with_db(|conn| generate_building_indexes_after(conn, 300, 3, 1))
        .expect("customers generated with the indexes set aside");
    direct
        .with_db(|conn| generate_building_indexes_after(conn, 300, 3, u64::MAX))
        .expect("customers generated into indexed tables");
    let written = staged.with_db(terms);
    assert!(written.len() > 300 * 10, "terms written: {}", written.len());
    assert_eq!(written, direct.with_db(terms));
    // The e-mail and phone trigram index answers as if written row by row, and keeps
    // following changes after the load.
    let containing = |app: &crate::helpers::TestApp, piece: &str| {
        use clientele::db::customers::{ContactField, ids_containing};
        app.with_db(|conn| ids_containing(conn, ContactField::Email, piece, 1_000))
            .expect("the index answers")
            .map(|ids| ids.len())
    };
    for piece in ["17@", "23@", "99@"] {
        let staged_found = containing(&staged, piece);
        assert!(staged_found.is_some_and(|n| n > 0), "{piece}");
        assert_eq!(staged_found, containing(&direct, piece), "{piece}");
    }
    staged.with_db(|conn| {
        use clientele::db::schema::customers::dsl::*;
        use diesel::prelude::*;
        diesel::update(customers.filter(id.eq(clientele::db::types::CustomerId(1))))
            .set(email.eq("after.the.load@example.com"))
            .execute(conn)
            .expect("an address changes");
    });
    assert_eq!(containing(&staged, "after.the.load"), Some(1));
    staged.with_db(|conn| {
        let after = SetAside::take(conn).expect("set aside again");
        let mut again = (after.indexes().to_vec(), after.foreign_keys().to_vec());
        after.restore(conn).expect("restored again");
        let mut before = before.clone();
        for set in [&mut before.0, &mut before.1, &mut again.0, &mut again.1] {
            set.sort();
        }
        assert_eq!(before, again, "every index and foreign key is back as it was");
        use diesel::RunQueryDsl;
        let (kind, term, customer) = written[0].clone();
        let twice = diesel::sql_query(format!(
            "INSERT INTO customer_terms (kind, term, customer_id) VALUES ({kind}, '{term}', {customer})"
        ))
        .execute(conn);
        assert!(twice.is_err(), "the search index's key is back");
        let orphan = diesel::sql_query(
            "INSERT INTO customer_events (customer_id, actor_kind, actor_name, action, \
             customer_version, created_at) \
             VALUES (999999, 'system', 'Test', 'created', 1, '2026-01-01 00:00:00')",
        )
        .execute(conn);
        assert!(orphan.is_err(), "an event of no customer is refused");
    });
}

#[tokio::test]
async fn a_bounded_filter_read_whole_gives_the_same_pages_tiers_and_total() {
    use clientele::db::listing::{self, Bounds, Cursor, CustomerFilter, SortKey};
    use clientele::db::types::TagId;
    use clientele::domain::scope::{Grant, Grants};
    use clientele::domain::search::FuzzyQuery;
    let app = spawn_app().await;
    app.with_db(|conn| clientele::db::generate::generate(conn, 300, 9))
        .expect("customers generated");
    for name in [
        "Maria Garcia",
        "Maria Garcia",
        "Marie Garcia",
        "Mario Garcon",
        "Annamaria Garcia",
        "Garcia Maria",
        "Jon Smyth",
        "John Smith",
        "Xavi Quell",
        "Xavi Quell",
        "Xavi Quellberg",
        "Xavo Quell",
        "Quell Xavi",
    ] {
        app.create_customer(&[("name", name)]);
    }
    app.create_customer(&[("name", "Maria Garc"), ("phone", "+385 91 555 0101")]);
    let mobile = Grants(
        [Grant {
            channel: "sms".into(),
            account: String::new(),
        }]
        .into_iter()
        .collect(),
    );
    let name = |query: &str| CustomerFilter {
        name: FuzzyQuery::parse(query),
        ..CustomerFilter::default()
    };
    let filters = [
        // An agent's search: the reach is tested on every match.
        CustomerFilter {
            reach: Some(mobile.clone()),
            ..name("maria garc")
        },
        CustomerFilter {
            reach: Some(mobile),
            ..name("jonh smtih")
        },
        // A search with another filter: the plan's count no longer answers.
        CustomerFilter {
            blacklisted: Some(false),
            ..name("maria garcia")
        },
        CustomerFilter {
            channel: Some("sms".into()),
            ..name("maria")
        },
        // A tag few hold, and selected rows.
        CustomerFilter {
            any_tags: vec![TagId(1)],
            ..CustomerFilter::default()
        },
        CustomerFilter::only(
            (1..60)
                .step_by(3)
                .map(clientele::db::types::CustomerId)
                .collect(),
        ),
        // A search of two words alone, found by its pairs alone (with an exact match, and
        // with typos): newest first, ordered by the times its pairs carry.
        name("xavi quell"),
        name("jonh smtih"),
    ];
    let searches_alone = 2;
    let keys = [
        (SortKey::Created, false),
        (SortKey::Created, true),
        (SortKey::Updated, true),
        (SortKey::LastContact, false),
        (SortKey::Conversations, true),
        (SortKey::Satisfaction, false),
    ];
    let bounds = Bounds {
        collect: 1_000,
        list: Some(1_000),
        common: None,
        pairs: true,
    };
    let mut read_whole = 0;
    for filter in &filters {
        for (key, ascending) in keys {
            let (tier_by_tier, whole) = app.with_db(|conn| {
                let plans = listing::plan_within(conn, filter, bounds).expect("plan");
                let total = listing::total(conn, filter, &plans, None).expect("total");
                // Pages of four, each after the last row of the one before.
                let (mut pages, mut whole) = (Vec::new(), Vec::new());
                let mut after: Option<Cursor> = None;
                let mut whole_total = None;
                loop {
                    let page = listing::list_filtered(
                        conn,
                        filter,
                        &plans,
                        listing::PageRequest {
                            key,
                            ascending,
                            after: after.as_ref(),
                            limit: 4,
                        },
                    )
                    .expect("list");
                    let read = listing::page_with_total(
                        conn,
                        filter,
                        &plans,
                        listing::PageRequest {
                            key,
                            ascending,
                            after: after.as_ref(),
                            limit: 4,
                        },
                    )
                    .expect("read whole");
                    if let Some((rows, total)) = read {
                        whole_total = Some(total);
                        whole.extend(rows.iter().map(|(c, tier)| (c.public_id.clone(), *tier)));
                    }
                    pages.extend(page.iter().map(|(c, tier)| (c.public_id.clone(), *tier)));
                    let Some((last, tier)) = page.last() else {
                        break;
                    };
                    after = Some(Cursor::after(last, key, *tier));
                }
                ((pages, total), whole_total.map(|total| (whole, total)))
            });
            let context = format!("{filter:?} {key:?} ascending {ascending}");
            assert!(!tier_by_tier.0.is_empty(), "{context}");
            if let Some(whole) = whole {
                read_whole += 1;
                assert_eq!(whole, tier_by_tier, "{context}");
            }
            // A crafted cursor whose value is no number starts at its tier both ways.
            let crafted = Cursor {
                tier: 1,
                value: listing::SortValue::Text("x".into()),
                id: clientele::db::types::CustomerId(5),
            };
            let (by_tier, whole) = app.with_db(|conn| {
                let plans = listing::plan_within(conn, filter, bounds).expect("plan");
                let ids = |page: Vec<(clientele::db::customers::Customer, u8)>| {
                    page.into_iter()
                        .map(|(c, tier)| (c.public_id, tier))
                        .collect::<Vec<_>>()
                };
                let by_tier = listing::list_filtered(
                    conn,
                    filter,
                    &plans,
                    listing::PageRequest {
                        key,
                        ascending,
                        after: Some(&crafted),
                        limit: 100,
                    },
                )
                .expect("list");
                let whole = listing::page_with_total(
                    conn,
                    filter,
                    &plans,
                    listing::PageRequest {
                        key,
                        ascending,
                        after: Some(&crafted),
                        limit: 100,
                    },
                )
                .expect("read whole")
                .map(|(rows, _)| ids(rows));
                (ids(by_tier), whole)
            });
            if let Some(whole) = whole {
                assert_eq!(whole, by_tier, "{context}, crafted cursor");
            }
        }
    }
    let by_creation = keys.iter().filter(|(k, _)| *k == SortKey::Created).count();
    assert_eq!(
        read_whole,
        (filters.len() - searches_alone) * keys.len() + searches_alone * by_creation,
        "every filter is bounded, and a search alone is ordered from its pairs by creation"
    );
}

#[tokio::test]
async fn a_period_on_creation_is_counted_exactly_alone_and_with_a_condition() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let token = app.api_token("crm");
    let at = |day: &str| {
        chrono::NaiveDateTime::parse_from_str(&format!("{day} 00:00:00"), "%Y-%m-%d %H:%M:%S")
            .expect("a time")
    };
    // 30 in October (27 of them VIPs), 4 around it: the last day of September, and the
    // first moment of November, which the period leaves out.
    for i in 0..34 {
        let id = app.create_customer(&[("name", &format!("Period {i}"))]);
        if i < 27 {
            make_vip(&app, &token, &id).await;
        }
        let created = match i {
            30 | 31 => at("2026-09-30"),
            32 | 33 => at("2026-11-01"),
            i => at(&format!("2026-10-{:02}", i + 1)),
        };
        app.with_db(|conn| {
            diesel::update(customers::table.filter(customers::public_id.eq(&id)))
                .set(customers::created_at.eq(created))
                .execute(conn)
        })
        .expect("created moved");
    }
    let october = "/customers?period=custom&from=2026-10-01&to=2026-10-31&size=25";
    let page = supervisor.page(october).await;
    assert!(page.contains("id=\"next-page\""), "{page}");
    assert_eq!(said_total(&page), (false, 30));
    let vip = supervisor.page(&format!("{october}&lifecycle=vip")).await;
    assert!(vip.contains("id=\"next-page\""), "{vip}");
    assert_eq!(said_total(&vip), (false, 27));
    let from = supervisor
        .page("/customers?period=custom&from=2026-10-01&size=25")
        .await;
    assert_eq!(said_total(&from), (false, 32));
}
