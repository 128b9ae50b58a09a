//! A page whose filter tests customers one by one reads a window of them along the sort's
//! index and stops there; searching further picks up where it stopped, so page after page
//! lists every match once, in order, as one unbounded walk would.

use clientele::db::listing::{self, Cursor, CustomerFilter, SortKey, Target, Walk};
use clientele::db::schema::customers;
use clientele::db::types::CustomerId;
use clientele::domain::condition::{Scalar, Test};
use clientele::domain::property::PropertyType;
use diesel::prelude::*;

use crate::helpers::{TestApp, spawn_app};
use crate::html::{link, text_of};

/// An app with `count` generated customers, every `nth` of them nicknamed.
async fn app_with_nicknames(count: u64, seed: u64, nth: usize) -> TestApp {
    let app = spawn_app().await;
    app.with_db(|conn| clientele::db::generate::generate(conn, count, seed))
        .expect("customers generated");
    nickname_every(&app, nth);
    app
}

/// Gives a nickname to every `nth` customer in creation order, and to no one else.
fn nickname_every(app: &TestApp, nth: usize) {
    app.with_db(|conn| {
        let ids: Vec<CustomerId> = customers::table
            .order((customers::created_at.asc(), customers::id.asc()))
            .select(customers::id)
            .load(conn)
            .expect("customers");
        diesel::update(customers::table)
            .set(customers::nickname.eq(None::<String>))
            .execute(conn)
            .expect("nicknames cleared");
        let chosen: Vec<CustomerId> = ids.into_iter().step_by(nth).collect();
        diesel::update(customers::table.filter(customers::id.eq_any(chosen)))
            .set(customers::nickname.eq("Nick"))
            .execute(conn)
            .expect("nicknames set");
    });
}

fn request(
    key: SortKey,
    ascending: bool,
    after: Option<&Cursor>,
    limit: i64,
) -> listing::PageRequest<'_> {
    listing::PageRequest {
        key,
        ascending,
        after,
        limit,
    }
}

/// A walk of `first` customers.
fn tiny(first: i64) -> Walk {
    Walk {
        further: 0,
        first: Some(first),
    }
}

fn nicknamed() -> CustomerFilter {
    CustomerFilter {
        conditions: vec![(
            Target::Standard("nickname".into(), PropertyType::Text),
            Test::NotEmpty,
        )],
        ..CustomerFilter::default()
    }
}

#[tokio::test]
async fn walks_that_stop_at_their_window_list_every_match_once_in_order() {
    let app = app_with_nicknames(200, 11, 37).await;
    let computed = |key: &str, test: Test| CustomerFilter {
        conditions: vec![(Target::Computed(key.into()), test)],
        ..CustomerFilter::default()
    };
    let no_conversations = Test::Range {
        low: Some((Scalar::Number(0.0), true)),
        high: Some((Scalar::Number(0.0), true)),
    };
    // A stage and a period on the last contact, read on each walked row.
    let recent_vips = CustomerFilter {
        lifecycle: Some("vip".into()),
        from: Some(chrono::Utc::now().naive_utc() - chrono::TimeDelta::days(200)),
        on_last_contact: true,
        ..CustomerFilter::default()
    };
    let cases = [
        (nicknamed(), SortKey::Created, false),
        (nicknamed(), SortKey::Created, true),
        (nicknamed(), SortKey::Name, true),
        (nicknamed(), SortKey::LastContact, false),
        (nicknamed(), SortKey::Conversations, true),
        // The counters and the last contact are then tested on each walked row, not
        // through their own indexes.
        (
            computed("last_contact_at", Test::Empty),
            SortKey::Created,
            false,
        ),
        (
            computed("conversations_count", no_conversations),
            SortKey::Satisfaction,
            true,
        ),
        (recent_vips, SortKey::Updated, false),
    ];
    for (filter, key, ascending) in cases {
        app.with_db(|conn| {
            let plans = listing::plan(conn, &filter).expect("plan");
            let whole: Vec<CustomerId> =
                listing::list_filtered(conn, &filter, &plans, request(key, ascending, None, 1_000))
                    .expect("the whole list")
                    .into_iter()
                    .map(|(c, _)| c.id)
                    .collect();
            assert!(!whole.is_empty(), "{filter:?}");
            // Pages of 8 reading 25 customers at most: some stop short, some are full.
            let (mut walked, mut after, mut stops) = (Vec::new(), None::<Cursor>, 0);
            for _ in 0..200 {
                let page = request(key, ascending, after.as_ref(), 8);
                let found = listing::list_within(conn, &filter, &plans, page, Some(tiny(25)))
                    .expect("a page");
                assert!(found.rows.len() <= 8);
                walked.extend(found.rows.iter().map(|(c, _)| c.id));
                after = match (&found.stopped, found.rows.last()) {
                    (Some(stopped), _) => {
                        assert!(found.rows.len() < 8, "a full page goes on as usual");
                        stops += 1;
                        Some(stopped.at.clone())
                    }
                    (None, Some((last, _))) if found.rows.len() == 8 => {
                        Some(Cursor::after(last, key, 0))
                    }
                    _ => None,
                };
                if after.is_none() {
                    break;
                }
            }
            assert_eq!(walked, whole, "{filter:?} {key:?} ascending {ascending}");
            assert!(stops >= 1, "{filter:?} {key:?}: the walks never stopped");
        });
    }
}

#[tokio::test]
async fn a_walk_stops_only_where_customers_are_tested_one_by_one() {
    let app = app_with_nicknames(120, 12, 50).await;
    let newest = listing::PageRequest::newest(10);
    let stops = |filter: CustomerFilter, key: SortKey| {
        app.with_db(|conn| {
            let plans = listing::plan(conn, &filter).expect("plan");
            let page = listing::PageRequest { key, ..newest };
            let found =
                listing::list_within(conn, &filter, &plans, page, Some(tiny(5))).expect("a page");
            found.stopped.is_some()
        })
    };
    let stage = CustomerFilter {
        lifecycle: Some("vip".into()),
        ..CustomerFilter::default()
    };
    // A stage and a period are read from their indexes in creation order: never cut.
    assert!(!stops(stage.clone(), SortKey::Created));
    let a_year = CustomerFilter {
        from: Some(chrono::Utc::now().naive_utc() - chrono::TimeDelta::days(365)),
        ..CustomerFilter::default()
    };
    assert!(!stops(a_year.clone(), SortKey::Created));
    // In another order they are tested one by one.
    assert!(stops(stage, SortKey::Name));
    assert!(stops(a_year, SortKey::Name));
    assert!(stops(nicknamed(), SortKey::Created));
    // An e-mail address is looked up on its index.
    let email: String = app.with_db(|conn| {
        customers::table
            .filter(customers::email.is_not_null())
            .order(customers::created_at.asc())
            .select(customers::email.assume_not_null())
            .first(conn)
            .expect("an e-mail address")
    });
    let addressed = CustomerFilter {
        conditions: vec![(
            Target::Standard("email".into(), PropertyType::Email),
            Test::Equals(vec![email]),
        )],
        ..nicknamed()
    };
    assert!(!stops(addressed, SortKey::Created));
    // Selected rows are a list: read whole, whatever the window.
    let ids: Vec<CustomerId> = app.with_db(|conn| {
        customers::table
            .select(customers::id)
            .limit(30)
            .load(conn)
            .expect("ids")
    });
    assert!(!stops(
        CustomerFilter { ids, ..nicknamed() },
        SortKey::Created
    ));
}

#[tokio::test]
async fn the_customers_page_offers_to_search_further_and_finds_the_rest() {
    // The one nicknamed customer is the oldest: past the first page's window.
    let app = app_with_nicknames(listing::WALK_FIRST as u64 + 60, 13, 100_000).await;
    let supervisor = app.supervisor().await;
    let oldest: String = app.with_db(|conn| {
        customers::table
            .order((customers::created_at.asc(), customers::id.asc()))
            .select(customers::public_id)
            .first(conn)
            .expect("the oldest")
    });
    // The window fits the database: a walk costs more on PostgreSQL.
    let sqlite = app.with_db(|conn| clientele::db::among::is_sqlite(conn));
    let (searched, next) = if sqlite {
        ("2,000", "10,000")
    } else {
        ("500", "2,500")
    };
    let page = supervisor
        .page("/customers?period=all&f=nickname:not_empty")
        .await;
    assert!(!page.contains(&oldest), "{page}");
    assert!(
        page.contains("None of the customers searched for this page match."),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "This page searched {searched} customers in this order"
        )),
        "{page}"
    );
    let link = link_of(&page, "search-further");
    assert!(link.contains("further=1"), "{link}");
    assert!(
        page.contains(&format!("id=\"search-further\">Search the next {next}")),
        "{page}"
    );

    let further = supervisor.page(&link).await;
    assert!(further.contains(&oldest), "{further}");
    assert!(!further.contains("id=\"search-further\""), "{further}");
    assert!(!further.contains("id=\"searched\""), "{further}");
    // Paging back keeps the deeper search: the first page now finds the customer too.
    let back = link_of(&further, "previous-page");
    assert!(supervisor.page(&back).await.contains(&oldest));

    // A crafted depth: unreadable is the first page's; past the last (even the largest
    // number) is all the rest.
    let query = "/customers?period=all&f=nickname:not_empty&further=";
    let junk = supervisor.page(&format!("{query}lots")).await;
    assert!(!junk.contains(&oldest));
    assert!(junk.contains("id=\"search-further\""), "{junk}");
    let deepest = supervisor.page(&format!("{query}{}", u32::MAX)).await;
    assert!(deepest.contains(&oldest), "{deepest}");
    assert!(!deepest.contains("id=\"search-further\""), "{deepest}");
}

#[tokio::test]
async fn a_total_that_can_only_be_estimated_claims_nothing_before_a_match_is_found() {
    // Ids spread far apart, so the total is estimated from a sample of them; the one
    // nicknamed customer is the oldest, at the far end of the ids: past the first page's
    // window and outside the sample.
    let app = app_with_nicknames(listing::WALK_FIRST as u64 + 60, 17, 100_000).await;
    app.with_db(|conn| {
        diesel::update(customers::table)
            .set(customers::nickname.eq(None::<String>))
            .execute(conn)
            .expect("nicknames cleared");
        let mut far = clientele::db::customers::blank(
            CustomerId(60_000),
            "prospect",
            chrono::NaiveDate::from_ymd_opt(2000, 1, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .expect("a date"),
        );
        far.nickname = Some("Nick".to_owned());
        clientele::db::customers::insert_customers(conn, &[far]).expect("a far id")
    });
    let supervisor = app.supervisor().await;
    let page = supervisor
        .page("/customers?period=all&f=nickname:not_empty")
        .await;
    assert!(
        page.contains("None of the customers searched for this page match."),
        "{page}"
    );
    assert!(
        page.contains("<span id=\"total\">none found yet</span>"),
        "{page}"
    );
    // Once one is found, the total is at least that one, in the singular.
    let further = supervisor.page(&link_of(&page, "search-further")).await;
    let total = text_of(&further, "total");
    assert!(total.ends_with("1 customer"), "{total}");
}

/// The URL of the link with this id, as a test client asks for it.
fn link_of(page: &str, id: &str) -> String {
    link(page, id).unwrap_or_else(|| panic!("no {id} in {page}"))
}
