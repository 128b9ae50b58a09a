//! The workspace queue: what it shows of each conversation (the customer's last message,
//! unread, waiting), its count, and that the self-service keyword moves nothing in it.

use clientele::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{Browser, PASSWORD, TestApp, spawn_app};

async fn queue(browser: &Browser) -> Value {
    let response = browser.get("/workspace/conversations.json").await;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    response.json().await.expect("json")
}

/// The queue's rows as (customer, preview).
fn rows(queue: &Value) -> Vec<(String, String)> {
    queue["conversations"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            (
                row["who"].as_str().unwrap_or_default().to_owned(),
                row["preview"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn text(app: &TestApp, token: &str, phone: &str, words: &str) -> Value {
    app.inbound(
        token,
        json!({"channel": "whatsapp", "external_id": phone, "text": words}),
    )
    .await
}

fn row<'a>(queue: &'a Value, who: &str) -> &'a Value {
    queue["conversations"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["who"] == who)
        .unwrap_or_else(|| panic!("{who} in {queue}"))
}

#[tokio::test]
async fn the_self_service_keyword_neither_opens_nor_moves_a_conversation_in_the_queue() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    app.create_customer(&[("name", "Ada"), ("phone", "+385911111111")]);
    app.create_customer(&[("name", "Bob"), ("phone", "+385922222222")]);
    let agent = app.agent().await;

    // Ada asks for her link: answered automatically, nothing waits in the queue.
    let answer = text(&app, &token, "+385911111111", "profile").await;
    assert_eq!(answer["replies"].as_array().map(Vec::len), Some(1));
    let empty = queue(&agent).await;
    assert_eq!(empty["total"], 0, "{empty}");
    assert!(rows(&empty).is_empty());

    // Bob writes, then Ada writes something else: a conversation each, Ada's newest.
    text(&app, &token, "+385922222222", "Hello, my parcel is late").await;
    text(&app, &token, "+385911111111", "I need to change my address").await;
    let both = queue(&agent).await;
    assert_eq!(both["total"], 2);
    assert_eq!(both["total_label"], "2");
    // The heading's count stops one past what it counts, however long the queue.
    let counted = |at_most: i64| {
        app.with_db(|conn| {
            clientele::db::queue::count_open(conn, clientele::db::queue::Queue::All, None, at_most)
        })
        .expect("count")
    };
    assert_eq!((counted(1), counted(2), counted(50)), (2, 2, 2));
    assert_eq!(counted(0), 1);
    assert_eq!(
        rows(&both),
        vec![
            ("Ada".to_owned(), "I need to change my address".to_owned()),
            ("Bob".to_owned(), "Hello, my parcel is late".to_owned()),
        ]
    );

    // Bob's keyword in his open conversation: no move, and his preview stays his message.
    text(&app, &token, "+385922222222", "PROFILE").await;
    assert_eq!(rows(&queue(&agent).await), rows(&both));
}

#[tokio::test]
async fn each_agent_sees_what_is_unread_for_them_and_how_long_the_customer_waits() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    app.create_customer(&[("name", "Ada"), ("phone", "+385911111111")]);
    let ana = app.agent().await;
    app.create_user("ivo.agent", Role::Agent);
    let ivo = app.browser();
    ivo.sign_in("ivo.agent", PASSWORD).await;

    let conversation = text(&app, &token, "+385911111111", "Hello").await["conversation_id"]
        .as_i64()
        .expect("a conversation");
    let fresh = queue(&ana).await;
    assert_eq!(row(&fresh, "Ada")["unread"], true);
    assert!(row(&fresh, "Ada")["waiting"].is_string(), "{fresh}");

    // Ana reads it: read for her, not for Ivo; Ada still waits for a reply.
    ana.page(&format!("/conversations/{conversation}")).await;
    let read = queue(&ana).await;
    assert_eq!(row(&read, "Ada")["unread"], false);
    assert!(row(&read, "Ada")["waiting"].is_string());
    assert_eq!(row(&queue(&ivo).await, "Ada")["unread"], true);

    // Ada writes again: unread again; the thread's poll, open on Ana's screen, reads it.
    text(&app, &token, "+385911111111", "Are you there?").await;
    assert_eq!(row(&queue(&ana).await, "Ada")["unread"], true);
    ana.page(&format!("/conversations/{conversation}/messages.json"))
        .await;
    assert_eq!(row(&queue(&ana).await, "Ada")["unread"], false);

    // Ana's reply ends the wait; the preview stays the customer's message.
    let replied = ana
        .post_form(
            &format!("/conversations/{conversation}/reply"),
            &[("text", "Yes, looking into it")],
        )
        .await;
    assert_eq!(replied.status(), reqwest::StatusCode::SEE_OTHER);
    let answered = queue(&ana).await;
    assert!(row(&answered, "Ada")["waiting"].is_null(), "{answered}");
    assert_eq!(row(&answered, "Ada")["preview"], "Are you there?");
    let page = ana.page("/").await;
    assert!(page.contains("id=\"queue-total\">1<"), "the count");
}

#[tokio::test]
async fn a_conversation_shows_the_queue_beside_it_with_itself_marked() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    app.create_customer(&[("name", "Ada"), ("phone", "+385911111111")]);
    app.create_customer(&[("name", "Bob"), ("phone", "+385922222222")]);
    let ada = text(&app, &token, "+385911111111", "Hello from Ada").await["conversation_id"]
        .as_i64()
        .expect("a conversation");
    let bob = text(&app, &token, "+385922222222", "Hello from Bob").await["conversation_id"]
        .as_i64()
        .expect("a conversation");
    let agent = app.agent().await;
    let page = agent.page(&format!("/conversations/{ada}")).await;
    let pane = page
        .split("id=\"queue-list\"")
        .nth(1)
        .and_then(|rest| rest.split("</ol>").next())
        .expect("the queue beside the thread");
    assert!(pane.contains(&format!(
        "href=\"/conversations/{ada}\" aria-current=\"page\""
    )));
    assert!(pane.contains(&format!("href=\"/conversations/{bob}\"")));
    assert!(
        pane.contains("Hello from Bob") && pane.contains("new"),
        "{pane}"
    );
    assert!(page.contains("<h1"), "one heading for the page");
}

#[tokio::test]
async fn a_row_names_the_customer_else_the_contact_as_it_introduced_itself() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    app.create_customer(&[("nickname", "Cleo"), ("phone", "+385944444444")]);
    text(&app, &token, "+385944444444", "Where is my order?").await;
    text(&app, &token, "+385955555555", "Hi, new here").await;
    app.inbound(
        &token,
        json!({"channel": "telegram", "external_id": "4242", "display_name": "Dora T.", "text": "Hello"}),
    )
    .await;
    let agent = app.agent().await;
    let shown = queue(&agent).await;
    assert_eq!(row(&shown, "Cleo")["preview"], "Where is my order?");
    assert_eq!(row(&shown, "+385955555555")["preview"], "Hi, new here");
    assert_eq!(row(&shown, "Dora T.")["preview"], "Hello");
}

#[derive(diesel::QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
    line: String,
}

fn pg(conn: &mut clientele::db::DbConnection) -> &mut diesel::PgConnection {
    let clientele::db::DbConnection::Postgresql(c) = conn else {
        panic!("a PostgreSQL connection");
    };
    c
}

#[tokio::test]
#[ignore = "PostgreSQL only: scripts/test runs it with --ignored postgres_only"]
async fn postgres_only_a_senders_open_conversation_is_found_by_the_sender_whatever_the_statistics()
{
    // Statistics taken while every conversation was closed (a fresh import) cost "open"
    // as rare: the lookup must still go by the sender, not walk every open conversation.
    use diesel::RunQueryDsl;
    use diesel::connection::SimpleConnection;
    crate::helpers::require_backend(true);
    let app = spawn_app().await;
    app.with_db(|conn| {
        pg(conn)
            .batch_execute(
                "INSERT INTO channel_identities (channel, external_id, created_at, last_seen_at)
                 SELECT 'sms', '+38591' || n, now(), now() FROM generate_series(1, 3000) n;
                 INSERT INTO conversations (identity_id, channel, status, direction, started_at,
                 last_message_at) SELECT id, 'sms', 'closed', 'inbound', now(), now()
                 FROM channel_identities;
                 ANALYZE channel_identities, conversations;
                 UPDATE conversations SET status = 'open' WHERE id % 10 = 0;",
            )
            .expect("conversations written");
        for text in ["hello", "again"] {
            crate::helpers::receive_web(conn, "plan-sender", text);
        }
        let lookup = crate::helpers::text_rows(
            conn,
            "SELECT name AS value FROM pg_prepared_statements WHERE statement LIKE \
             'SELECT \"conversations\".\"id\"%\"status\" = $2)) AND (\"conversations\".\"account\" = $3)) ORDER BY \"conversations\".\"id\" DESC LIMIT $4'",
        );
        let [name] = lookup.as_slice() else {
            panic!("one prepared lookup of a sender's open conversation: {lookup:?}");
        };
        let identity = crate::helpers::text_rows(
            conn,
            "SELECT CAST(id AS TEXT) AS value FROM channel_identities \
             WHERE external_id = 'plan-sender'",
        );
        let plan: Vec<PlanLine> = diesel::sql_query(format!(
            "EXPLAIN EXECUTE {name}({}, 'open', '', 1)",
            identity[0]
        ))
        .load(pg(conn))
        .expect("explained");
        let plan: Vec<String> = plan.into_iter().map(|p| p.line).collect();
        let plan = plan.join("\n");
        assert!(
            plan.contains("conversations_identity_open_idx") && !plan.contains("Sort"),
            "{plan}"
        );
    });
}
