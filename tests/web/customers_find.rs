//! The Customers page as people use it: one search box that finds anyone by what they
//! know of them, pages back and forth with where they are, the columns each reader chose,
//! and a bulk change's refusal beside the bulk controls.

use diesel::prelude::*;

use crate::helpers::{TestApp, location, spawn_app};
use crate::html::{link, text_of};

/// The customer IDs a list page shows, in order.
fn listed(html: &str) -> Vec<String> {
    html.split("<td class=\"mono\">")
        .skip(1)
        .map(|part| part[..part.find('<').expect("end of cell")].to_owned())
        .collect()
}

fn created_weeks_ago(app: &TestApp, public_id: &str, weeks: i64) {
    use clientele::db::schema::customers::dsl as c;
    let at = chrono::Utc::now().naive_utc() - chrono::Duration::weeks(weeks);
    app.with_db(|conn| {
        diesel::update(c::customers.filter(c::public_id.eq(public_id)))
            .set(c::created_at.eq(at))
            .execute(conn)
            .expect("backdated");
    });
}

#[tokio::test]
async fn one_search_box_finds_an_older_customer_by_whatever_staff_know() {
    let app = spawn_app().await;
    let maria = app.create_customer(&[
        ("name", "Maria Garcia"),
        ("email", "m.garcia@example.net"),
        ("phone", "+385 91 555 0101"),
    ]);
    created_weeks_ago(&app, &maria, 3);
    let other = app.create_customer(&[("name", "Ivan Horvat"), ("email", "ivan@example.org")]);
    app.add_identity(&maria, "wechat", "oMgarciaW3x9");
    let supervisor = app.supervisor().await;
    for (typed, found_by) in [
        ("garcia@example", "e-mail"),
        ("GARCIA@EXAMPLE.NET", "e-mail"),
        ("555 0101", "phone"),
        ("maria garc", "name"),
        ("OMGARCIAW3", "channel id"),
        (maria.as_str(), "customer ID"),
    ] {
        let html = supervisor
            .page(&format!(
                "/customers?q={}",
                askama::filters::urlencode_strict(typed).expect("encoded")
            ))
            .await;
        // The best match first (an ID's near neighbours follow it, marked similar).
        assert_eq!(listed(&html).first(), Some(&maria), "{typed}");
        assert!(!listed(&html).contains(&other) || typed == maria, "{typed}");
        assert!(
            html.contains(&format!("Found by {found_by}")),
            "{typed}: {}",
            &html[html.find("id=\"q-hint\"").unwrap_or(0)..][..300]
        );
    }
    // What nobody holds finds nobody, never everyone.
    let html = supervisor.page("/customers?q=%21%21").await;
    assert!(listed(&html).is_empty());
    let html = supervisor.page("/customers?q=nobody%40nowhere.test").await;
    assert!(listed(&html).is_empty());
    assert!(html.contains("No customers match"));
    // Without a search, the default period still applies: the older customer is not
    // among this week's.
    let html = supervisor.page("/customers").await;
    assert_eq!(listed(&html), vec![other.clone()]);
    // The filters narrow a search; the reading found is kept by every link.
    let html = supervisor
        .page("/customers?q=a%40example&lifecycle=prospect")
        .await;
    assert!(html.contains("Found by e-mail"), "{html}");
    assert!(
        html.contains("name=\"query\" value=\"q=a%40example&#38;lifecycle=prospect&#38;qk=email\"")
            || html.contains(
                "name=\"query\" value=\"q=a%40example&amp;lifecycle=prospect&amp;qk=email\""
            ),
        "{html}"
    );
    assert_eq!(listed(&html), vec![maria.clone()]);
    // A word in no name is looked for inside e-mails (the trigram index serves three
    // letters or more); two letters are not, as that would test every customer: the
    // reading is offered as a link instead.
    let html = supervisor.page("/customers?q=example").await;
    assert_eq!(listed(&html).len(), 2);
    assert!(html.contains("Found by e-mail"));
    let html = supervisor.page("/customers?q=xa").await;
    assert!(listed(&html).is_empty());
    assert!(html.contains("qk=email") && html.contains("qk=contact"));
    let html = supervisor.page("/customers?q=xa&qk=email").await;
    assert_eq!(listed(&html).len(), 2);
}

#[tokio::test]
async fn pages_go_back_and_forth_and_say_which_rows_they_show() {
    let app = spawn_app().await;
    for i in 0..60 {
        app.create_customer(&[("name", &format!("Paged {i:02}"))]);
    }
    let supervisor = app.supervisor().await;
    let first = supervisor.page("/customers?period=all&size=25").await;
    assert_eq!(text_of(&first, "range"), "1–25");
    assert_eq!(text_of(&first, "total"), "60 customers");
    assert!(link(&first, "previous-page").is_none());
    let second_path = link(&first, "next-page").expect("a next page");
    let second = supervisor.page(&second_path).await;
    assert_eq!(text_of(&second, "range"), "26–50");
    let third = supervisor
        .page(&link(&second, "next-page").expect("a third page"))
        .await;
    assert_eq!(text_of(&third, "range"), "51–60");
    assert!(link(&third, "next-page").is_none());
    let back = supervisor
        .page(&link(&third, "previous-page").expect("a previous page"))
        .await;
    assert_eq!(text_of(&back, "range"), "26–50");
    assert_eq!(listed(&back), listed(&second));
    let start = supervisor
        .page(&link(&back, "previous-page").expect("the first page"))
        .await;
    assert_eq!(listed(&start), listed(&first));
    assert!(link(&start, "previous-page").is_none());
    // A cursor that does not read is the first page, not an error.
    let odd = supervisor
        .page("/customers?period=all&size=25&after=x&trail=y")
        .await;
    assert_eq!(listed(&odd), listed(&first));
}

#[tokio::test]
async fn each_reader_chooses_the_columns_and_hidden_properties_never_show() {
    let app = spawn_app().await;
    app.set_customers_page_for_agents(true);
    app.create_customer(&[("name", "Ada"), ("email", "ada@example.com")]);
    let supervisor = app.supervisor().await;
    let html = supervisor.page("/customers?period=all").await;
    assert!(html.contains("<th scope=\"col\">E-mail</th>"));
    assert!(!html.contains("<th scope=\"col\">Messages</th>"));
    let response = supervisor
        .post_form(
            "/customers/columns",
            &[
                ("column", "messages"),
                ("column", "created"),
                ("back", "/customers?period=all"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/customers?period=all");
    let html = supervisor.page("/customers?period=all").await;
    assert!(html.contains("<th scope=\"col\">Messages</th>"));
    assert!(!html.contains("<th scope=\"col\">E-mail</th>"));
    assert!(!html.contains("ada@example.com"));
    // Another staff member's choice is their own.
    app.with_db(|conn| {
        use clientele::db::schema::properties::dsl::*;
        diesel::update(properties.filter(key.eq("email")))
            .set(agent_access.eq("hidden"))
            .execute(conn)
            .expect("hidden from agents");
    });
    let agent = app.agent().await;
    let response = agent
        .post_form(
            "/customers/columns",
            &[("column", "email"), ("back", "//evil.example")],
        )
        .await;
    assert_eq!(location(&response), "/customers");
    let html = agent.page("/customers?whose=all&period=all").await;
    assert!(!html.contains("E-mail</th>"), "{html}");
    assert!(!html.contains("ada@example.com"));
    assert!(!html.contains("name=\"column\" value=\"email\""));
    // Default columns again.
    supervisor
        .post_form("/customers/columns", &[("reset", "1")])
        .await;
    let html = supervisor.page("/customers?period=all").await;
    assert!(html.contains("ada@example.com"));
}

#[tokio::test]
async fn a_refused_bulk_change_says_why_beside_the_bulk_controls() {
    let app = spawn_app().await;
    app.create_customer(&[("name", "Ada")]);
    let supervisor = app.supervisor().await;
    let response = supervisor
        .post_form(
            "/customers/bulk",
            &[
                ("query", "period=all"),
                ("action", "set_lifecycle"),
                ("lifecycle", "vip"),
                ("scope", "selected"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/customers?period=all#bulk-form");
    let html = supervisor.page("/customers?period=all").await;
    let bar = &html[html.find("class=\"card bulk-bar\"").expect("the bulk bar")..];
    let bar = &bar[..bar.find("</fieldset>").expect("its end")];
    assert!(
        bar.contains("id=\"bulk-error\"") && bar.contains("Select at least one customer"),
        "{bar}"
    );
    assert_eq!(
        html.matches("Select at least one customer").count(),
        1,
        "in the bulk bar, not also at the top"
    );
}
