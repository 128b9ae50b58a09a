//! A property condition's page is the same however its holders are read: collected into
//! a list, a set, tested row by row, or (a number on the default sort) walked in creation
//! order along the values, which carry their customer's creation time through every
//! write.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use clientele::db::DbConnection;
use clientele::db::listing::{self, Cursor, CustomerFilter, SortKey, Target};
use clientele::db::schema::{customer_values, customers};
use clientele::db::types::{CustomerId, PropertyId};
use clientele::domain::condition::{Scalar, Test};
use clientele::domain::property::PropertyType;
use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::spawn_app;
use crate::merge::merge_form;
use crate::totals::score_property;

#[tokio::test]
async fn a_condition_read_as_a_list_a_set_or_row_by_row_gives_the_same_pages() {
    let app = spawn_app().await;
    app.with_db(|conn| clientele::db::generate::generate(conn, 400, 5))
        .expect("customers generated");
    let score = PropertyId(app.with_db(score_property));
    // Half the customers were created after this time.
    let middle: NaiveDateTime = app.with_db(|conn| {
        customers::table
            .order(customers::created_at.asc())
            .offset(200)
            .select(customers::created_at)
            .first(conn)
            .expect("a middle")
    });
    let at_least = |n: f64| Test::Range {
        low: Some((Scalar::Number(n), true)),
        high: None,
    };
    let between = Test::Range {
        low: Some((Scalar::Number(20.0), false)),
        high: Some((Scalar::Number(60.0), true)),
    };
    for test in [
        at_least(90.0),
        between,
        Test::NotEquals(Scalar::Number(50.0)),
        Test::Empty,
        Test::NotEmpty,
    ] {
        for (key, ascending) in [
            (SortKey::Created, false),
            (SortKey::Created, true),
            (SortKey::Name, true),
        ] {
            for from in [None, Some(middle)] {
                // Two pages of 30: the second after the first's last row.
                let pages = |probe_values: bool, set_values: bool| -> Vec<Vec<String>> {
                    let filter = CustomerFilter {
                        conditions: vec![(
                            Target::Custom(score, PropertyType::Number),
                            test.clone(),
                        )],
                        from,
                        probe_values,
                        set_values,
                        ..CustomerFilter::default()
                    };
                    app.with_db(|conn| {
                        let plans = listing::plan(conn, &filter).expect("plan");
                        let mut after: Option<Cursor> = None;
                        let mut pages = Vec::new();
                        for _ in 0..2 {
                            let page = listing::list_filtered(
                                conn,
                                &filter,
                                &plans,
                                listing::PageRequest {
                                    key,
                                    ascending,
                                    after: after.as_ref(),
                                    limit: 30,
                                },
                            )
                            .expect("list");
                            after = page.last().map(|(c, _)| Cursor::after(c, key, 0));
                            pages.push(page.into_iter().map(|(c, _)| c.public_id).collect());
                        }
                        pages
                    })
                };
                let listed = pages(false, false);
                let case = format!("{test:?} {key:?} ascending {ascending} from {from:?}");
                assert_eq!(pages(false, true), listed, "{case}");
                assert_eq!(pages(true, false), listed, "{case}");
                if !matches!(test, Test::Empty) {
                    assert!(!listed[0].is_empty(), "{case}");
                }
                if !matches!(test, Test::Empty) && from.is_none() {
                    assert_eq!(listed[0].len(), 30, "{case}");
                    assert!(!listed[1].is_empty(), "{case}");
                }
            }
        }
    }
}

/// Every value row carries its customer's creation time.
pub(crate) fn assert_values_carry_their_customers_times(conn: &mut DbConnection) {
    let created: HashMap<CustomerId, NaiveDateTime> = customers::table
        .select((customers::id, customers::created_at))
        .load(conn)
        .expect("customers")
        .into_iter()
        .collect();
    let values: Vec<(CustomerId, NaiveDateTime)> = customer_values::table
        .select((customer_values::customer_id, customer_values::created_at))
        .load(conn)
        .expect("values");
    assert!(!values.is_empty());
    for (customer, at) in values {
        assert_eq!(at, created[&customer], "customer {customer:?}");
    }
}

#[tokio::test]
async fn values_carry_their_customers_creation_time_through_every_write() {
    let app = spawn_app().await;
    let token = app.api_token("crm");
    app.create_property("score", "number", &[], "edit");
    app.create_property("plan", "single_choice", &["Basic", "Pro"], "edit");
    let ada = app.create_customer(&[("name", "Ada Lovelace"), ("plan", "Pro")]);
    // Created a moment later: a value copied from the first would carry the wrong time.
    std::thread::sleep(std::time::Duration::from_millis(5));
    let twin = app.create_customer(&[("name", "Ada L."), ("score", "42")]);
    app.with_db(assert_values_carry_their_customers_times);

    let response = app
        .api(
            Method::PATCH,
            &format!("/api/v1/customers/{ada}"),
            &token,
            Some(json!({"properties": {"score": 7}})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    app.with_db(assert_values_carry_their_customers_times);

    // A merge gives the survivor the duplicate's score; its undo gives it back.
    let supervisor = app.supervisor().await;
    let response = merge_form(
        &supervisor,
        &ada,
        &twin,
        &app,
        &[("keep.score", "duplicate")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.value_of(&ada, "score").as_deref(), Some("42"));
    app.with_db(assert_values_carry_their_customers_times);
    let merge_id = app.undoable_merge(&ada);
    let response = supervisor
        .post_form(&format!("/customers/{ada}/merges/{merge_id}/undo"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.value_of(&twin, "score").as_deref(), Some("42"));
    app.with_db(assert_values_carry_their_customers_times);
}
