//! Teams and what they let an agent see: the conversations of their teams' channels (or
//! single accounts), the customers reachable through them, everywhere — the queue, every
//! conversation and profile address, the Customers list, search, export, bulk changes
//! and the panel — while supervisors and the API see everything.

use clientele::domain::Role;
use clientele::domain::customer::Actor;
use clientele::services::teams::{TeamInput, save_team};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Browser, PASSWORD, TestApp, location, spawn_app};

/// Creates a team directly (the form has its own test).
fn team(app: &TestApp, name: &str, members: &[i64], channels: &[&str], accounts: &str) -> i64 {
    let input = TeamInput {
        name: name.to_owned(),
        members: members.to_vec(),
        channels: channels.iter().map(|c| (*c).to_owned()).collect(),
        accounts: accounts.to_owned(),
    };
    app.with_db(|conn| save_team(conn, &Actor::System, None, &input))
        .expect("team saved")
        .id
        .0
}

async fn signed_in(app: &TestApp, username: &str, role: Role) -> (i64, Browser) {
    let id = app.create_user(username, role);
    let browser = app.browser();
    let response = browser.sign_in(username, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    (id, browser)
}

/// The world the scope tests share: Ada on WhatsApp, Bea on e-mail, Dee on both, Cy
/// reached by no channel (typed in by hand).
struct World {
    token: String,
    ada: String,
    ada_chat: i64,
    bea: String,
    bea_chat: i64,
    cy: String,
    dee: String,
    dee_whatsapp: i64,
    dee_email: i64,
}

async fn world(app: &TestApp) -> World {
    app.set_customers_page_for_agents(true);
    let token = app.api_token("gateway");
    let ada = app.create_customer(&[("name", "Ada Whatsapp"), ("phone", "+385911111111")]);
    let bea = app.create_customer(&[("name", "Bea Email"), ("email", "bea@example.com")]);
    let cy = app.create_customer(&[("name", "Cy Nochannel")]);
    let dee = app.create_customer(&[
        ("name", "Dee Both"),
        ("phone", "+385922222222"),
        ("email", "dee@example.com"),
    ]);
    let chat = async |channel: &str, id: &str, text: &str| {
        app.inbound(
            &token,
            json!({"channel": channel, "external_id": id, "text": text}),
        )
        .await["conversation_id"]
            .as_i64()
            .expect("a conversation")
    };
    let ada_chat = chat("whatsapp", "+385911111111", "Ada here").await;
    let bea_chat = chat("email", "bea@example.com", "Bea writes a secret").await;
    let dee_whatsapp = chat("whatsapp", "+385922222222", "Dee on WhatsApp").await;
    let dee_email = chat("email", "dee@example.com", "Dee private mail").await;
    World {
        token,
        ada,
        ada_chat,
        bea,
        bea_chat,
        cy,
        dee,
        dee_whatsapp,
        dee_email,
    }
}

#[tokio::test]
async fn supervisors_build_teams_and_every_wrong_field_is_said_at_once() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let ana = app.create_user("ana.agent", Role::Agent);
    let page = supervisor.page("/settings/teams").await;
    assert!(page.contains("No teams yet: every agent sees every conversation"));

    let member = ana.to_string();
    let response = supervisor
        .post_form(
            "/settings/teams",
            &[
                ("name", "  "),
                ("member", &member),
                ("channel", "whatsapp"),
                ("accounts", "sms:not a number\npigeon:coo"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.expect("page");
    assert!(html.contains("id=\"name-error\""), "{html}");
    assert!(
        html.contains("Line 1:") && html.contains("Line 2:"),
        "{html}"
    );
    // What was typed stays: the ticked boxes and the lines.
    assert!(html.contains(&format!("value=\"{ana}\" checked")));
    assert!(html.contains("value=\"whatsapp\" checked"));
    assert!(html.contains("sms:not a number\npigeon:coo"));

    let response = supervisor
        .post_form(
            "/settings/teams",
            &[
                ("name", "Mobile"),
                ("member", &member),
                ("channel", "whatsapp"),
                ("accounts", "sms: +1 (555) 000-1111"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/settings/teams");
    let page = supervisor.page("/settings/teams").await;
    assert!(page.contains("Mobile") && page.contains("ana.agent display"));
    assert!(page.contains("SMS +15550001111, WhatsApp"), "{page}");
    // A second team of the same name (any case) is refused.
    let response = supervisor
        .post_form("/settings/teams", &[("name", "mobile")])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Agents never reach the settings, whatever they post.
    let agent = app.browser();
    agent.sign_in("ana.agent", PASSWORD).await;
    assert_eq!(
        agent.get("/settings/teams").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        agent
            .post_form("/settings/teams", &[("name", "Mine")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn without_teams_every_agent_sees_everything() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let (_, agent) = signed_in(&app, "ana.agent", Role::Agent).await;
    let queue = agent.page("/").await;
    assert!(queue.contains("Ada Whatsapp") && queue.contains("Bea Email"));
    agent.page(&format!("/conversations/{}", w.bea_chat)).await;
    agent.page(&format!("/customers/{}", w.bea)).await;
}

#[tokio::test]
async fn an_agent_sees_only_the_conversations_and_customers_of_their_teams_channels() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let (ana, agent) = signed_in(&app, "ana.agent", Role::Agent).await;
    let (bo, _) = signed_in(&app, "bo.agent", Role::Agent).await;
    team(&app, "WhatsApp", &[ana], &["whatsapp"], "");
    team(&app, "E-mail", &[bo], &["email"], "");

    // The queue: WhatsApp conversations only.
    let queue = agent.page("/").await;
    assert!(queue.contains("Ada Whatsapp") && queue.contains("Dee Both"));
    assert!(!queue.contains("Bea Email"), "{queue}");
    let poll = agent.page("/workspace/conversations.json").await;
    assert!(poll.contains(&format!("\"id\":{}", w.ada_chat)));
    assert!(!poll.contains(&format!("\"id\":{}", w.bea_chat)));

    // Addresses outside the teams answer 404, as if they did not exist.
    for path in [
        format!("/conversations/{}", w.bea_chat),
        format!("/conversations/{}", w.dee_email),
        format!("/customers/{}", w.bea),
        format!("/customers/{}/interactions", w.bea),
    ] {
        assert_eq!(
            agent.get(&path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    agent.page(&format!("/conversations/{}", w.ada_chat)).await;
    // Cy is reached by no channel: nobody owns them, everyone sees them.
    agent.page(&format!("/customers/{}", w.cy)).await;

    // Dee is on both: visible, with only the WhatsApp conversation and its messages.
    let tab = agent.page(&format!("/customers/{}/messages", w.dee)).await;
    assert!(
        tab.contains("Dee on WhatsApp") && !tab.contains("Dee private mail"),
        "{tab}"
    );
    for section in ["messages", "summary", "conversations"] {
        let panel = agent
            .page(&format!(
                "/conversations/{}?panel={section}",
                w.dee_whatsapp
            ))
            .await;
        assert!(!panel.contains("Dee private mail"), "{section}: {panel}");
        assert!(
            !panel.contains(&format!("/conversations/{}", w.dee_email)),
            "{section}"
        );
    }

    // The Customers list, its search and its "all my teams' customers" switch.
    let all = agent.page("/customers?whose=all&period=all").await;
    assert!(all.contains("All my teams&#x27;") || all.contains("All my teams'"));
    for name in ["Ada Whatsapp", "Dee Both", "Cy Nochannel"] {
        assert!(all.contains(name), "{name}");
    }
    assert!(!all.contains("Bea Email"));
    let search = agent.page("/customers?whose=all&period=all&name=bea").await;
    assert!(!search.contains("Bea Email"));
    let found = agent
        .page("/customers?whose=all&period=all&contact=bea%40example.com")
        .await;
    assert!(!found.contains("Bea Email"));

    // Export and bulk changes reach no further than the list.
    let csv = agent
        .get("/customers/export.csv?whose=all&period=all")
        .await
        .text()
        .await
        .expect("csv");
    assert!(
        csv.contains("Ada Whatsapp") && !csv.contains("Bea Email"),
        "{csv}"
    );
    let csv = agent
        .post_form(
            "/customers/export.csv",
            &[("customer", &w.bea), ("customer", &w.ada)],
        )
        .await
        .text()
        .await
        .expect("csv");
    assert!(
        csv.contains("Ada Whatsapp") && !csv.contains("Bea Email"),
        "{csv}"
    );
    app.with_db(|conn| clientele::db::tags::insert_tag(conn, "VIP", "gold"))
        .expect("tag");
    let vip = app.with_db(|conn| clientele::db::tags::list_tags(conn).expect("tags"))[0]
        .id
        .to_string();
    let response = agent
        .post_form(
            "/customers/bulk",
            &[
                ("query", "whose=all&period=all"),
                ("action", "add_tag"),
                ("tag", &vip),
                ("scope", "all"),
            ],
        )
        .await;
    let confirm = response.text().await.expect("page");
    assert!(confirm.contains("for 3 customers"), "{confirm}");

    // The card's "link to an existing customer" search finds no one outside.
    let unknown = app
        .inbound(
            &w.token,
            json!({"channel": "whatsapp", "external_id": "+385933333333", "text": "Who am I"}),
        )
        .await["conversation_id"]
        .as_i64()
        .expect("a conversation");
    let page = agent.page(&format!("/conversations/{unknown}?q=bea")).await;
    assert!(!page.contains(&w.bea));
    let response = agent
        .post_form(
            &format!("/conversations/{unknown}/link"),
            &[("customer_id", &w.bea)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        app.with_db(|conn| {
            clientele::db::conversations::get_conversation(
                conn,
                clientele::db::types::ConversationId(unknown),
            )
        })
        .expect("conversation")
        .customer_id
        .is_none(),
        "a crafted link to a customer outside the teams is refused"
    );

    // Supervisors and the API see everything.
    let supervisor = app.supervisor().await;
    supervisor
        .page(&format!("/conversations/{}", w.bea_chat))
        .await;
    let queue = supervisor.page("/").await;
    assert!(queue.contains("Bea Email"));
    let response = app
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/customers/{}", w.bea),
            &w.token,
            None,
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "tokens stay organisation-wide"
    );
    let listing = app
        .api(reqwest::Method::GET, "/api/v1/customers", &w.token, None)
        .await
        .text()
        .await
        .expect("body");
    assert!(
        listing.contains(&w.bea) && listing.contains(&w.ada),
        "{listing}"
    );
}

#[tokio::test]
async fn every_conversation_and_customer_address_outside_the_teams_answers_404() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let (ana, agent) = signed_in(&app, "ana.agent", Role::Agent).await;
    team(&app, "WhatsApp", &[ana], &["whatsapp"], "");
    let conversation = format!("/conversations/{}", w.bea_chat);
    let customer = format!("/customers/{}", w.bea);
    let reads = [
        conversation.clone(),
        format!("{conversation}?panel=summary"),
        format!("{conversation}/messages.json"),
        customer.clone(),
        format!("{customer}/profile"),
        format!("{customer}/tags"),
        format!("{customer}/identities"),
        format!("{customer}/interactions"),
        format!("{customer}/messages"),
        format!("{customer}/conversations"),
        format!("{customer}/orders"),
        format!("{customer}/history"),
        format!("{customer}/anonymize"),
        format!("{customer}/merge/{}", w.ada),
        format!("/customers/{}/merge/{}", w.ada, w.bea),
    ];
    for path in &reads {
        assert_eq!(
            agent.get(path).await.status(),
            StatusCode::NOT_FOUND,
            "GET {path}"
        );
    }
    let writes = [
        "take",
        "close",
        "reply",
        "card",
        "note",
        "identities",
        "tags",
        "tags/1/remove",
        "comments",
        "send-link",
        "link",
        "link-new",
        "unlink",
        "move",
        "contact-blacklist",
        "contact-blacklist/remove",
    ]
    .map(|tail| format!("{conversation}/{tail}"));
    let customer_writes = [
        "notes",
        "profile",
        "tags",
        "tags/1/remove",
        "identities",
        "identities/1/remove",
        "blacklist",
        "blacklist/remove",
        "contact",
        "lock",
        "unlock",
        "anonymize",
        "send-link",
        "links/revoke",
        "merges/1/undo",
        "history/1/revert",
    ]
    .map(|tail| format!("{customer}/{tail}"));
    let pairs = [
        format!("{customer}/merge/{}", w.ada),
        format!("{customer}/duplicates/{}/dismiss", w.ada),
        format!("/customers/{}/duplicates/{}/dismiss", w.ada, w.bea),
    ];
    for path in writes.iter().chain(&customer_writes).chain(&pairs) {
        let response = agent
            .post_form(path, &[("text", "x"), ("body", "x"), ("reason", "x")])
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "POST {path}");
    }
    // Nothing was written on the way.
    let bea = app.customer(&w.bea);
    assert!(!bea.blacklisted);
    let response = app
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/customers/{}", w.bea),
            &w.token,
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_team_may_work_single_accounts_of_a_channel() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    let (ana, agent) = signed_in(&app, "ana.agent", Role::Agent).await;
    team(&app, "Sales line", &[ana], &[], "whatsapp:+15550001111");
    let send = async |account: &str, text: &str| {
        let answer = app
            .inbound(
                &token,
                json!({"channel": "whatsapp", "external_id": "+385944444444",
                       "account": account, "text": text}),
            )
            .await;
        answer["conversation_id"].as_i64().expect("a conversation")
    };
    // Any written form of the number is the same account.
    let sales = send("+1 (555) 000-1111", "To sales").await;
    let support = send("+15550002222", "To support").await;
    assert_ne!(sales, support, "one open conversation per account");
    assert_eq!(send("+15550001111", "Again to sales").await, sales);

    let queue = agent.page("/").await;
    assert!(queue.contains(&format!("/conversations/{sales}")));
    assert!(!queue.contains(&format!("/conversations/{support}")));
    // The count is the team's account's alone; a supervisor's holds both.
    assert!(queue.contains("id=\"queue-total\">1<"), "{queue}");
    let everything = app.supervisor().await.page("/").await;
    assert!(everything.contains("id=\"queue-total\">2<"));
    assert_eq!(
        agent
            .get(&format!("/conversations/{support}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // A bad account is refused with the field named.
    let response = app
        .api(
            reqwest::Method::POST,
            "/api/v1/messages",
            &token,
            Some(json!({"channel": "sms", "external_id": "+385944444444",
                        "account": "not a number", "text": "hi"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.expect("body").contains("\"account\""));
}

#[tokio::test]
async fn the_queue_narrows_to_one_team_and_an_agent_in_no_team_sees_no_conversation() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let (ana, _) = signed_in(&app, "ana.agent", Role::Agent).await;
    let (_, loner) = signed_in(&app, "lo.agent", Role::Agent).await;
    let whatsapp = team(&app, "WhatsApp", &[ana], &["whatsapp"], "");
    team(&app, "E-mail", &[], &["email"], "");

    let supervisor = app.supervisor().await;
    let all = supervisor.page("/").await;
    assert!(all.contains("All teams") && all.contains("Bea Email"));
    assert!(all.contains("id=\"queue-total\">4<"));
    let narrowed = supervisor.page(&format!("/?team={whatsapp}")).await;
    assert!(narrowed.contains("Ada Whatsapp") && !narrowed.contains("Bea Email"));
    assert!(narrowed.contains("id=\"queue-total\">2<"), "{narrowed}");
    let narrowed = supervisor
        .page(&format!("/?view=unassigned&team={whatsapp}"))
        .await;
    assert!(narrowed.contains("Ada Whatsapp"));

    let queue = loner.page("/").await;
    assert!(queue.contains("No open conversations"), "{queue}");
    assert!(queue.contains("id=\"queue-total\">0<"));
    assert_eq!(
        loner
            .get(&format!("/conversations/{}", w.ada_chat))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let page = supervisor.page("/settings/teams").await;
    assert!(
        page.contains("lo.agent display"),
        "the settings name agents in no team"
    );
}

#[tokio::test]
async fn an_identity_that_belongs_to_a_customer_outside_the_teams_is_refused_without_naming_them() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let (ana, agent) = signed_in(&app, "ana.agent", Role::Agent).await;
    team(&app, "WhatsApp", &[ana], &["whatsapp"], "");
    let form = [("channel", "email"), ("external_id", "bea@example.com")];
    let response = agent
        .post_form(&format!("/customers/{}/identities", w.ada), &form)
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.expect("page");
    assert!(page.contains("This identity belongs to another customer."));
    assert!(
        !page.contains(&w.bea),
        "Bea is outside the agent's teams: no ID, no link"
    );
    let response = agent
        .post_form(&format!("/conversations/{}/identities", w.ada_chat), &form)
        .await;
    let page = response.text().await.expect("page");
    assert!(!page.contains(&w.bea), "nor named from the conversation");
    // A supervisor reaches everyone and is told whose it is.
    let supervisor = app.supervisor().await;
    let response = supervisor
        .post_form(&format!("/customers/{}/identities", w.ada), &form)
        .await;
    let page = response.text().await.expect("page");
    assert!(page.contains(&format!("This identity belongs to customer {}.", w.bea)));
}
