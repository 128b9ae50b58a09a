//! The Customers page at scale: fuzzy search, property conditions, every sort (bulk
//! changes: `bulk_changes.rs`).

use diesel::prelude::*;
use reqwest::StatusCode;

use clientele::db::schema::customers;

use crate::helpers::{TestApp, location, spawn_app};

/// The customer IDs of a list page, in order.
fn ids_on(html: &str) -> Vec<String> {
    html.split("<td class=\"mono\">")
        .skip(1)
        .map(|part| part[..part.find('<').expect("cell end")].to_owned())
        .collect()
}

fn position(ids: &[String], id: &str) -> usize {
    ids.iter()
        .position(|i| i == id)
        .unwrap_or_else(|| panic!("{id} not listed in {ids:?}"))
}

#[tokio::test]
async fn fuzzy_search_is_partial_accent_blind_forgives_one_typo_and_ranks() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let john = app.create_customer(&[("name", "John Smith")]);
    let johnny = app.create_customer(&[("name", "Johnny Smithers")]);
    let jon = app.create_customer(&[("name", "Jon Smith")]);
    let jose = app.create_customer(&[("name", "José Álvarez")]);
    let other = app.create_customer(&[("name", "Maria Garcia")]);
    let search = |q: &str| format!("/customers?period=all&name={q}");

    // Partial, anywhere in a word.
    let ids = ids_on(&supervisor.page(&search("ohn")).await);
    assert!(ids.contains(&john) && ids.contains(&johnny), "{ids:?}");
    assert!(!ids.contains(&other) && !ids.contains(&jon));

    // Case and accents do not matter, either way round.
    for q in ["jose", "JOSÉ", "alvarez", "Álv"] {
        let ids = ids_on(&supervisor.page(&search(q)).await);
        assert_eq!(ids, vec![jose.clone()], "{q}");
    }
    app.create_customer(&[("name", "Jose Alvarez")]);
    assert_eq!(ids_on(&supervisor.page(&search("José")).await).len(), 2);

    // One typo per word still finds John Smith, after exact and partial matches.
    let html = supervisor.page(&search("Jonh%20Smtih")).await;
    let ids = ids_on(&html);
    assert!(ids.contains(&john), "{ids:?}");
    assert!(html.contains("similar"), "typo matches are marked");
    let ids = ids_on(&supervisor.page(&search("john%20smith")).await);
    let (exact, partial, typo) = (
        position(&ids, &john),
        position(&ids, &johnny),
        position(&ids, &jon),
    );
    assert!(exact < partial && partial < typo, "{ids:?}");
    assert!(!ids.contains(&other));

    // Two typos in one word are too many; short words need an exact part.
    assert!(ids_on(&supervisor.page(&search("Jnoh%20Smiht")).await).is_empty());
    assert!(!ids_on(&supervisor.page(&search("jan")).await).contains(&john));
}

#[tokio::test]
async fn fuzzy_customer_id_search_finds_ids_containing_the_digits() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let mut created = Vec::new();
    for i in 0..13 {
        created.push(app.create_customer(&[("name", &format!("Person {i}"))]));
    }
    let twelfth = created[11].clone();
    assert!(twelfth.contains("0012"), "{twelfth}");
    let ids = ids_on(&supervisor.page("/customers?period=all&id=0012").await);
    assert_eq!(ids, vec![twelfth.clone()]);
    let lower = twelfth.to_lowercase();
    let ids = ids_on(
        &supervisor
            .page(&format!("/customers?period=all&id={lower}"))
            .await,
    );
    assert_eq!(ids.first(), Some(&twelfth), "the exact ID ranks first");
}

fn set_counters(
    app: &TestApp,
    public_id: &str,
    orders: i64,
    conversations: i64,
    csat: Option<f64>,
) {
    app.with_db(|conn| {
        diesel::update(customers::table.filter(customers::public_id.eq(public_id)))
            .set((
                customers::orders_count.eq(orders),
                customers::conversations_count.eq(conversations),
                customers::csat_average.eq(csat),
                customers::csat_sort.eq(csat.map_or(-1, |a| (a * 1000.0) as i64)),
            ))
            .execute(conn)
            .expect("update");
    });
}

#[tokio::test]
async fn property_conditions_take_operators_that_fit_the_type() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    app.create_property("score", "number", &[], "edit");
    app.create_property(
        "interests",
        "multiple_choice",
        &["Golf", "Tennis", "Chess"],
        "edit",
    );
    app.create_property("renewal", "date", &[], "edit");
    app.create_property("plan", "text", &[], "edit");
    let ada = app.create_customer(&[
        ("name", "Ada"),
        ("score", "7.5"),
        ("interests", "Golf,Tennis"),
        ("renewal", "2026-01-10"),
        ("plan", "Gold Plus"),
        ("city", "Zagreb"),
    ]);
    let bob = app.create_customer(&[
        ("name", "Bob"),
        ("score", "3"),
        ("interests", "Golf"),
        ("renewal", "2026-06-01"),
        ("plan", "Silver"),
    ]);
    let cy = app.create_customer(&[("name", "Cy")]);
    set_counters(&app, &ada, 6, 1, Some(2.5));
    set_counters(&app, &bob, 5, 3, Some(4.0));
    set_counters(&app, &cy, 0, 0, None);
    let cases: [(&str, &[&String]); 22] = [
        ("score:greater:5", &[&ada]),
        ("score:less:5", &[&bob]),
        ("score:between:3|7", &[&bob]),
        ("score:equals:3", &[&bob]),
        ("score:not_equals:3", &[&ada, &cy]),
        ("score:empty", &[&cy]),
        ("score:not_empty", &[&ada, &bob]),
        ("interests:has_any:Tennis|Chess", &[&ada]),
        ("interests:has_all:golf|tennis", &[&ada]),
        ("interests:has_any:Golf", &[&ada, &bob]),
        ("renewal:before:2026-03-01", &[&ada]),
        ("renewal:after:2026-01-10", &[&bob]),
        ("renewal:between:2026-01-10|2026-06-01", &[&ada, &bob]),
        ("plan:contains:old", &[&ada]),
        ("plan:starts_with:sil", &[&bob]),
        ("plan:equals:silver", &[&bob]),
        ("city:equals:zagreb", &[&ada]),
        ("orders_count:at_least:5", &[&ada, &bob]),
        ("orders_count:greater:5", &[&ada]),
        ("conversations_count:at_least:3", &[&bob]),
        ("csat_average:less:3", &[&ada]),
        ("csat_average:empty", &[&cy]),
    ];
    for (condition, expected) in cases {
        let encoded = condition.replace('|', "%7C");
        let mut ids = ids_on(
            &supervisor
                .page(&format!("/customers?period=all&f={encoded}"))
                .await,
        );
        ids.sort();
        let mut want: Vec<String> = expected.iter().map(|s| (*s).clone()).collect();
        want.sort();
        assert_eq!(ids, want, "{condition}");
    }
    // Conditions combine.
    let ids = ids_on(
        &supervisor
            .page("/customers?period=all&f=orders_count:at_least:5&f=score:less:5")
            .await,
    );
    assert_eq!(ids, vec![bob.clone()]);

    // Adding a condition from the form puts it in the URL.
    let response = supervisor
        .get("/customers?period=all&fp=orders_count&fo=at_least&fv=5")
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).contains("f=orders_count%3Aat_least%3A5"));
    // An operator that does not fit is refused at the field, the typed value kept.
    let response = supervisor
        .get("/customers?period=all&fp=score&fo=contains&fv=seven")
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("Pick a comparison that fits this property."));
    assert!(html.contains("value=\"seven\""));
    let response = supervisor
        .get("/customers?period=all&fp=renewal&fo=before&fv=2026-02-30")
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("Enter a real date"));
}

#[tokio::test]
async fn conditions_on_hidden_properties_reveal_nothing_to_agents() {
    let app = spawn_app().await;
    app.set_customers_page_for_agents(true);
    app.create_property("secret_score", "number", &[], "hidden");
    let high = app.create_customer(&[("name", "High"), ("secret_score", "9")]);
    let low = app.create_customer(&[("name", "Low"), ("secret_score", "1")]);
    let agent = app.agent().await;
    let response = agent
        .get("/customers?whose=all&period=all&f=secret_score:greater:5")
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    let ids = ids_on(&html);
    assert!(
        ids.contains(&high) && ids.contains(&low),
        "the condition is not applied"
    );
    assert!(
        !html.contains("secret_score label"),
        "the hidden property is never offered or named"
    );
    let unknown = agent.get("/customers?period=all&f=no_such:greater:5").await;
    let unknown = unknown.text().await.unwrap();
    assert!(unknown.contains("Pick a property to filter by."));
    assert!(
        html.contains("Pick a property to filter by."),
        "same answer as unknown"
    );
}

#[tokio::test]
async fn sorts_by_name_last_contact_and_satisfaction() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let bob = app.create_customer(&[("name", "bob")]);
    let abel = app.create_customer(&[("name", "Ábel")]);
    let carla = app.create_customer(&[("name", "Carla")]);
    set_counters(&app, &bob, 0, 0, Some(4.5));
    set_counters(&app, &carla, 0, 0, Some(2.0));
    let ids = ids_on(
        &supervisor
            .page("/customers?period=all&sort=name&dir=asc")
            .await,
    );
    assert_eq!(ids, vec![abel.clone(), bob.clone(), carla.clone()]);
    let ids = ids_on(
        &supervisor
            .page("/customers?period=all&sort=satisfaction&dir=desc")
            .await,
    );
    assert_eq!(
        ids,
        vec![bob.clone(), carla.clone(), abel.clone()],
        "unrated last"
    );
    let token = app.api_token("gw");
    let dora = app.create_customer(&[("name", "Dora"), ("phone", "+385911234567")]);
    app.inbound(
        &token,
        serde_json::json!({"channel": "whatsapp", "external_id": "+385911234567", "text": "hi"}),
    )
    .await;
    let ids = ids_on(
        &supervisor
            .page("/customers?period=all&sort=last_contact&dir=desc")
            .await,
    );
    assert_eq!(ids.first(), Some(&dora), "{ids:?}");
    let ids = ids_on(
        &supervisor
            .page("/customers?period=all&sort=last_contact&dir=asc")
            .await,
    );
    assert_eq!(ids.last(), Some(&dora), "never contacted first: {ids:?}");
}

#[tokio::test]
async fn searches_tested_row_by_row_give_the_same_pages_tiers_and_totals() {
    use clientele::db::listing::{self, Bounds, CustomerFilter, Total};
    use clientele::domain::search::FuzzyQuery;
    let app = spawn_app().await;
    for name in [
        "John Smith",
        "Jane Smithers",
        "Joan Smyth",
        "Smita Rao",
        "Bob Jones",
        "Jon Smith",
        "Johnny Smith",
    ] {
        app.create_customer(&[("name", name)]);
    }
    let nicknamed = app.create_customer(&[("name", "Robert Jones"), ("nickname", "Smithy")]);
    let queries = [
        ("smit", false),
        ("jo smi", false),
        ("jonh smtih", false),
        ("john smith", false),
        ("smithy", false),
        ("000", true),
        ("c0000001", true),
    ];
    for (query, id) in queries {
        let mut filter = CustomerFilter::default();
        if id {
            filter.public_id = FuzzyQuery::parse(query);
        } else {
            filter.name = FuzzyQuery::parse(query);
        }
        let page = |plans: &listing::Plans| -> (Vec<(String, u8)>, Total) {
            app.with_db(|conn| {
                let found =
                    listing::list_filtered(conn, &filter, plans, listing::PageRequest::newest(100))
                        .expect("list")
                        .into_iter()
                        .map(|(c, tier)| (c.public_id, tier))
                        .collect();
                let total = listing::total(conn, &filter, plans, None).expect("total");
                (found, total)
            })
        };
        let plan = |collect: usize, list: usize| {
            let bounds = Bounds {
                collect,
                list: Some(list),
                common: Some(collect),
                ..Bounds::default()
            };
            app.with_db(|conn| listing::plan_within(conn, &filter, bounds).expect("plan"))
        };
        let (listed, listed_total) = page(&plan(1_000, 1_000));
        assert!(!listed.is_empty(), "{query}");
        assert_eq!(listed_total, Total::Exact(listed.len() as i64), "{query}");
        // Every tier walked, typos included: the same rows, tiers and order.
        let walks = app.with_db(|conn| {
            let bounds = Bounds {
                collect: 1_000,
                list: Some(0),
                common: Some(1_000),
                ..Bounds::default()
            };
            let search = FuzzyQuery::parse(query).expect("words");
            clientele::db::search::plan_within(conn, &search, id, bounds).expect("plan")
        });
        let typo_tier = listed.iter().any(|(_, tier)| *tier == 2);
        let typed_tiers = listed.iter().any(|(_, tier)| *tier < 2);
        assert!(walks.partial.is_none() == typed_tiers, "{query}");
        assert!(
            walks.typo.is_none() == typo_tier,
            "{query}: a tier with matches is walked"
        );
        let (walked, walked_total) = page(&plan(1_000, 0));
        assert_eq!(listed, walked, "{query}");
        assert_eq!(walked_total, listed_total, "{query}");
        // Every word too common to collect, and too many pairs: every tier walked, the
        // words one typo away tested on each row too.
        let (common, common_total) = page(&plan(1, 0));
        assert_eq!(common, listed, "{query}");
        assert_ne!(common_total, Total::Exact(0), "{query}");
    }
    // A nickname is searched whichever way the search goes.
    let filter = CustomerFilter {
        name: FuzzyQuery::parse("smithy"),
        ..CustomerFilter::default()
    };
    for list in [1_000, 0] {
        let bounds = Bounds {
            collect: 1_000,
            list: Some(list),
            ..Bounds::default()
        };
        let plans = app.with_db(|conn| listing::plan_within(conn, &filter, bounds).expect("plan"));
        let found = app.with_db(|conn| {
            listing::list_filtered(conn, &filter, &plans, listing::PageRequest::newest(10))
                .expect("list")
        });
        assert!(
            found.iter().any(|(c, _)| c.public_id == nicknamed),
            "{list}"
        );
    }
}

#[tokio::test]
async fn popular_tags_tested_row_by_row_give_the_same_results() {
    use clientele::db::listing::{self, CustomerFilter};
    let app = spawn_app().await;
    app.with_db(|conn| {
        clientele::db::tags::insert_tag(conn, "VIP", "#c0352b").unwrap();
        clientele::db::tags::insert_tag(conn, "Wholesale", "#2456d6").unwrap();
    });
    let tags = app.with_db(|conn| clientele::db::tags::list_tags(conn).unwrap());
    let (vip, wholesale) = (tags[0].id, tags[1].id);
    let mut tagged = Vec::new();
    for i in 0..6 {
        let id = app.create_customer(&[("name", &format!("Tagged {i}"))]);
        let row = app.customer(&id).id;
        app.with_db(|conn| {
            clientele::db::tags::add_customer_tag(conn, row, vip).unwrap();
            if i % 2 == 0 {
                clientele::db::tags::add_customer_tag(conn, row, wholesale).unwrap();
            }
        });
        tagged.push(id);
    }
    app.create_customer(&[("name", "Untagged")]);
    for (any, all, expected) in [
        (vec![vip], vec![], 6),
        (vec![wholesale], vec![], 3),
        (vec![], vec![vip, wholesale], 3),
    ] {
        let ids = |probe: bool| -> Vec<String> {
            let filter = CustomerFilter {
                any_tags: any.clone(),
                all_tags: all.clone(),
                probe_tags: probe,
                ..CustomerFilter::default()
            };
            app.with_db(|conn| {
                let plans = listing::plan(conn, &filter).expect("plan");
                let mut found: Vec<String> = listing::list_filtered(
                    conn,
                    &filter,
                    &plans,
                    listing::PageRequest::newest(100),
                )
                .expect("list")
                .into_iter()
                .map(|(c, _)| c.public_id)
                .collect();
                found.sort();
                found
            })
        };
        assert_eq!(ids(true), ids(false));
        assert_eq!(ids(true).len(), expected);
    }
}

#[tokio::test]
async fn rows_indexed_by_older_rules_get_their_search_text_and_keep_their_terms() {
    use clientele::db::DbConnection;
    use clientele::db::listing::{self, CustomerFilter};
    use clientele::domain::search::FuzzyQuery;
    use diesel::RunQueryDsl;
    let app = spawn_app().await;
    let robert = app.create_customer(&[("name", "Robert Jones"), ("nickname", "Smithy")]);
    // As migration 000021 leaves a customer with a nickname: version 1, no search text.
    let sql = "UPDATE customers SET search_version = 1, search_text = ''";
    app.with_db(|conn| match conn {
        DbConnection::Postgresql(c) => diesel::sql_query(sql).execute(c),
        DbConnection::Sqlite(c) => diesel::sql_query(sql).execute(c),
    })
    .expect("downgraded");
    let indexed =
        app.with_db(|conn| clientele::db::search::index_pending(conn, 100).expect("index"));
    assert_eq!(indexed, 1);
    let filter = CustomerFilter {
        name: FuzzyQuery::parse("smithy"),
        ..CustomerFilter::default()
    };
    for list in [1_000, 0] {
        let bounds = listing::Bounds {
            collect: 1_000,
            list: Some(list),
            ..listing::Bounds::default()
        };
        let found = app.with_db(|conn| {
            let plans = listing::plan_within(conn, &filter, bounds).expect("plan");
            listing::list_filtered(conn, &filter, &plans, listing::PageRequest::newest(10))
                .expect("list")
        });
        let ids: Vec<_> = found.into_iter().map(|(c, _)| c.public_id).collect();
        assert_eq!(ids, vec![robert.clone()], "listed up to {list}");
    }
}

#[tokio::test]
async fn a_round_past_the_listing_bound_collects_two_words_or_none() {
    use crate::search_pairs::{BY_LISTS, page, plans};
    use clientele::db::listing::Bounds;
    use clientele::domain::search::FuzzyQuery;
    let app = spawn_app().await;
    for name in [
        "Ana Lopez",
        "Ana Perez",
        "Anabel Ruiz",
        "Anastasia Gil",
        "Juana Diaz",
        "Dana Lopez",
        "Bea Lopez",
        "Carla Lopez",
        "Bea Ruiz",
    ] {
        app.create_customer(&[("name", name)]);
    }
    // More than one match is common; the second round collects up to four, and a tier
    // lists one.
    let small = Bounds {
        collect: 4,
        list: Some(1),
        common: Some(1),
        pairs: false,
    };
    let plan = |query: &str| {
        let search = FuzzyQuery::parse(query).expect("words");
        app.with_db(|conn| {
            clientele::db::search::plan_within(conn, &search, false, small).expect("plan")
        })
    };
    // "ana" is in six names, "lopez" in four: "lopez" alone would be a list longer than a
    // tier lists, so nothing is collected.
    let alone = plan("ana lopez");
    assert!(
        alone.words.iter().all(|w| !w.collected),
        "{:?}",
        alone.words
    );
    assert!(alone.partial.is_none() && alone.typo.is_none());
    // An initial is not collected past the listing bound: "b" starts two words, but
    // "ruiz" is left alone.
    let initial = plan("b ruiz");
    assert!(
        initial.words.iter().all(|w| !w.collected),
        "{:?}",
        initial.words
    );
    // Two words of two names each are collected, and their intersection listed.
    let both = plan("bea ruiz");
    assert!(both.words.iter().all(|w| w.collected), "{:?}", both.words);
    assert_eq!(both.partial.as_ref().map(Vec::len), Some(1));
    // Either way, the same page and total as collecting under roomy bounds.
    for query in ["ana lopez", "bea ruiz", "b ruiz"] {
        let listed = page(&app, query, &plans(&app, query, BY_LISTS));
        assert_eq!(
            page(&app, query, &plans(&app, query, small)),
            listed,
            "{query}"
        );
        assert_eq!(
            listed.0.len(),
            if query == "ana lopez" { 2 } else { 1 },
            "{query}"
        );
    }
}
