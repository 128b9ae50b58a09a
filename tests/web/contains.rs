//! "E-mail contains" and "Phone contains": read from the trigram index, which follows every
//! change of an address, and narrowed to exactly what was typed.

use diesel::prelude::*;

use clientele::db::customers::{ContactField, ids_containing};
use clientele::db::schema::customers;
use clientele::db::types::CustomerId;

use crate::helpers::{TestApp, spawn_app};

fn found(app: &TestApp, field: ContactField, piece: &str, limit: i64) -> Option<Vec<CustomerId>> {
    app.with_db(|conn| ids_containing(conn, field, piece, limit).expect("the index answers"))
}

fn set_email(app: &TestApp, id: CustomerId, email: Option<&str>) {
    app.with_db(|conn| {
        diesel::update(customers::table.find(id))
            .set(customers::email.eq(email))
            .execute(conn)
            .expect("update");
    });
}

#[tokio::test]
async fn contains_reads_the_trigram_index_which_follows_every_change() {
    let app = spawn_app().await;
    let ada = app.create_customer(&[
        ("name", "Ada Lovelace"),
        ("email", "Ada.Lovelace@example.com"),
        ("phone", "+385912345678"),
    ]);
    let bob = app.create_customer(&[
        ("name", "Bob Builder"),
        ("email", "bob_builder@builders.example"),
        ("phone", "+385915550100"),
    ]);
    let dan = app.create_customer(&[("name", "Dan Doe"), ("email", "bobxbuilder@mail.example")]);
    let (ada, bob, dan) = (
        app.customer(&ada).id,
        app.customer(&bob).id,
        app.customer(&dan).id,
    );

    // Without case, anywhere in the address; the phone by its digits.
    assert_eq!(
        found(&app, ContactField::Email, "lovelace@", 10),
        Some(vec![ada])
    );
    assert_eq!(
        found(&app, ContactField::Phone, "5550100", 10),
        Some(vec![bob])
    );
    assert_eq!(
        found(&app, ContactField::Email, "nobody-has-this", 10),
        Some(vec![])
    );
    // Too short for a trigram, or more holders than the list takes: each row is tested.
    assert_eq!(found(&app, ContactField::Email, "lo", 10), None);
    assert_eq!(found(&app, ContactField::Email, "b_b", 10), None);
    assert_eq!(found(&app, ContactField::Email, "example", 2), None);
    // The index may read `_` as any character; the page never does.
    let mut under = found(&app, ContactField::Email, "bob_builder", 10).expect("a list");
    under.sort();
    assert!(under.contains(&bob));
    assert!(under.iter().all(|id| [bob, dan].contains(id)));

    // A changed address is found by its new text only; a removed one by none.
    set_email(&app, ada, Some("countess@analytical.example"));
    assert_eq!(
        found(&app, ContactField::Email, "lovelace@", 10),
        Some(vec![])
    );
    assert_eq!(
        found(&app, ContactField::Email, "analytical", 10),
        Some(vec![ada])
    );
    set_email(&app, ada, None);
    assert_eq!(
        found(&app, ContactField::Email, "analytical", 10),
        Some(vec![])
    );
    // A deleted customer leaves the index.
    app.with_db(|conn| {
        diesel::delete(customers::table.find(dan))
            .execute(conn)
            .expect("delete");
    });
    assert_eq!(
        found(&app, ContactField::Email, "bobxbuilder", 10),
        Some(vec![])
    );

    let supervisor = app.supervisor().await;
    let shown = |html: &str| -> Vec<&'static str> {
        [
            ("Ada Lovelace", "ada"),
            ("Bob Builder", "bob"),
            ("Dan Doe", "dan"),
        ]
        .into_iter()
        .filter(|(name, _)| html.contains(name))
        .map(|(_, short)| short)
        .collect()
    };
    for (query, expected, total) in [
        ("email=BOB_builder", vec!["bob"], "1 customer"),
        ("email=builder", vec!["bob"], "1 customer"),
        ("email=analytical", vec![], "0 customers"),
        ("phone=555+0100", vec!["bob"], "1 customer"),
        ("phone=3859", vec!["ada", "bob"], "2 customers"),
        ("q=builder%40builders", vec!["bob"], "1 customer"),
    ] {
        let html = supervisor
            .page(&format!("/customers?period=all&{query}"))
            .await;
        assert_eq!(shown(&html), expected, "{query}");
        assert!(html.contains(total), "{query}: {total}");
    }

    // A piece common among the newest customers is tested row by row (a page fills at
    // once), not read from the index's long lists; the page still counts them all.
    for n in 0..12 {
        app.create_customer(&[
            ("name", &format!("Many {n}")),
            ("email", &format!("many{n}@common.example")),
        ]);
    }
    assert_eq!(
        found(&app, ContactField::Email, "common.example", 100),
        None
    );
    let html = supervisor
        .page("/customers?period=all&email=common.example")
        .await;
    assert!(html.contains("12 customers"));
}

#[tokio::test]
async fn a_search_that_found_nobody_is_known_empty_before_the_page_is_read() {
    use clientele::db::listing::{self, CustomerFilter, Total};
    use clientele::domain::search::FuzzyQuery;
    let app = spawn_app().await;
    app.create_customer(&[
        ("name", "Ada Lovelace"),
        ("email", "ada@example.com"),
        ("phone", "+385912345678"),
    ]);
    let with = |set: fn(&mut CustomerFilter)| {
        let mut filter = CustomerFilter::default();
        set(&mut filter);
        filter
    };
    let filters = [
        (with(|f| f.email = Some("nobody@".to_owned())), true),
        (with(|f| f.phone = Some("5550199".to_owned())), true),
        (with(|f| f.contact = Some("+1999".to_owned())), true),
        (with(|f| f.name = FuzzyQuery::parse("zebulon")), true),
        (with(|f| f.email = Some("ada@".to_owned())), false),
        (with(|f| f.name = FuzzyQuery::parse("lovelace")), false),
    ];
    for (filter, nobody) in filters {
        let (plans, page, total) = app.with_db(|conn| {
            let plans = listing::plan(conn, &filter).expect("plan");
            let page =
                listing::list_filtered(conn, &filter, &plans, listing::PageRequest::newest(10))
                    .expect("page");
            let total = listing::total(conn, &filter, &plans, None).expect("total");
            (plans, page, total)
        });
        assert_eq!(plans.match_nobody(), nobody, "{filter:?}");
        assert_eq!(page.is_empty(), nobody, "{filter:?}");
        assert_eq!(total == Total::Exact(0), nobody, "{filter:?}");
    }
}
