//! Browser tests in headless Chromium, driven through chromedriver on the loopback.

use clientele::domain::Role;
use thirtyfour::prelude::*;

use crate::chrome::Chrome;
use crate::helpers::{PASSWORD, spawn_app};

#[tokio::test]
async fn a_supervisor_creates_an_agent_who_then_sees_only_agent_navigation() {
    let app = spawn_app().await;
    app.create_user("sam.supervisor", Role::Supervisor);

    let Some(supervisor) = Chrome::start().await else {
        return;
    };
    supervisor
        .sign_in(&app.address, "sam.supervisor", PASSWORD)
        .await;
    supervisor.wait_for_text("Sign out").await;
    supervisor.click("nav a[href='/settings/users']").await;
    supervisor.click("a[href='/settings/users/new']").await;
    supervisor.fill("username", "lea.novak").await;
    supervisor.fill("display_name", "Lea Novak").await;
    supervisor.fill("time_zone", "Europe/Zagreb").await;
    supervisor.fill("password", "first-day-pass").await;
    supervisor
        .click("form[action='/settings/users'] button[type=submit]")
        .await;
    let list = supervisor.wait_for_text("Created lea.novak (Agent).").await;
    assert!(list.contains("Lea Novak"));

    // A second, independent browser session for the agent.
    let Some(agent) = Chrome::start().await else {
        return;
    };
    agent
        .sign_in(&app.address, "lea.novak", "first-day-pass")
        .await;
    agent.wait_for_text("Choose your own password").await;
    agent.fill("current_password", "first-day-pass").await;
    agent.fill("new_password", "lea's own passphrase").await;
    agent.fill("confirm_password", "lea's own passphrase").await;
    agent
        .click("form[action='/account/password'] button[type=submit]")
        .await;
    agent.wait_for_text("Your password was changed.").await;

    let nav = agent
        .driver
        .find_all(By::Css("nav.mainnav a"))
        .await
        .expect("navigation links");
    let mut labels = Vec::new();
    for link in nav {
        labels.push(link.text().await.expect("link text"));
    }
    assert_eq!(
        labels,
        vec!["Conversations".to_owned()],
        "an agent sees the agent navigation only"
    );

    // And a crafted visit to a supervisor page is refused.
    agent
        .driver
        .goto(format!("{}/settings/users", app.address))
        .await
        .expect("navigate");
    agent.wait_for_text("Not allowed").await;

    agent.quit().await;
    supervisor.quit().await;
}

#[tokio::test]
async fn a_supervisor_adds_a_loyalty_tier_sets_it_and_reverts_it_from_history() {
    let app = spawn_app().await;
    app.create_user("sam.supervisor", Role::Supervisor);
    let customer = app.create_customer(&[("name", "Ada Lovelace")]);

    let Some(chrome) = Chrome::start().await else {
        return;
    };
    chrome
        .sign_in(&app.address, "sam.supervisor", PASSWORD)
        .await;
    chrome.wait_for_text("Sign out").await;
    chrome.click("nav a[href='/settings/properties']").await;
    chrome.click("a[href='/settings/properties/new']").await;
    // The technical name is suggested from the label.
    chrome.fill("label", "Loyalty tier").await;
    let key = chrome
        .driver
        .find(By::Id("key"))
        .await
        .expect("key")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(key.as_deref(), Some("loyalty_tier"));
    let select = chrome
        .driver
        .find(By::Id("value_type"))
        .await
        .expect("type select");
    thirtyfour::components::SelectElement::new(&select)
        .await
        .expect("select")
        .select_by_value("single_choice")
        .await
        .expect("choose single choice");
    chrome.fill("choices", "Bronze\nSilver\nGold").await;
    let agents = chrome
        .driver
        .find(By::Id("agent_access"))
        .await
        .expect("agent access");
    thirtyfour::components::SelectElement::new(&agents)
        .await
        .expect("select")
        .select_by_value("edit")
        .await
        .expect("editable by agents");
    chrome
        .click("form[action='/settings/properties'] button[type=submit]")
        .await;
    chrome
        .wait_for_text("Created the property Loyalty tier.")
        .await;

    chrome
        .driver
        .goto(format!("{}/customers/{customer}/profile", app.address))
        .await
        .expect("open the profile");
    let tier = chrome
        .driver
        .query(By::Id("p_loyalty_tier"))
        .first()
        .await
        .expect("tier field");
    thirtyfour::components::SelectElement::new(&tier)
        .await
        .expect("select")
        .select_by_value("Gold")
        .await
        .expect("choose Gold");
    chrome
        .click("form[action$='/profile'] button[type=submit]")
        .await;
    chrome.wait_for_text("Saved 1 change.").await;

    chrome.click("nav.tabs a[href$='/history']").await;
    let history = chrome.wait_for_text("Changed Loyalty tier").await;
    assert!(history.contains(">Gold<"));
    chrome
        .click("form[action$='/revert'] button[type=submit]")
        .await;
    chrome
        .driver
        .accept_alert()
        .await
        .expect("confirm the revert");
    chrome.wait_for_text("The change was reverted.").await;
    assert_eq!(app.value_of(&customer, "loyalty_tier"), None);

    chrome.quit().await;
}

#[tokio::test]
async fn the_supervisor_configures_the_card_and_an_agent_edits_on_it_and_links_a_contact() {
    let app = spawn_app().await;
    app.create_user("sam.supervisor", Role::Supervisor);
    app.create_user("ana.agent", Role::Agent);
    app.create_property(
        "loyalty_tier",
        "single_choice",
        &["Bronze", "Silver", "Gold"],
        "edit",
    );
    let token = app.api_token("gateway");
    let customer = app.create_customer(&[
        ("name", "Ada Lovelace"),
        ("phone", "+385912345678"),
        ("company", "Analytical Engines"),
        ("loyalty_tier", "Bronze"),
    ]);
    let known = app
        .inbound(&token, serde_json::json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "Hi"}))
        .await["conversation_id"]
        .as_i64()
        .expect("conversation");
    let unknown = app
        .inbound(&token, serde_json::json!({"channel": "telegram", "external_id": "777", "display_name": "Ada?", "text": "It's me"}))
        .await["conversation_id"]
        .as_i64()
        .expect("conversation");

    // The supervisor: loyalty tier basic and editable, company additional; nothing else.
    let Some(supervisor) = Chrome::start().await else {
        return;
    };
    supervisor
        .sign_in(&app.address, "sam.supervisor", PASSWORD)
        .await;
    supervisor.wait_for_text("Sign out").await;
    supervisor
        .driver
        .goto(format!("{}/settings/card", app.address))
        .await
        .expect("card settings");
    let properties =
        app.with_db(|conn| clientele::db::properties::list_properties(conn).expect("registry"));
    let id_of = |key: &str| {
        properties
            .iter()
            .find(|p| p.key == key)
            .expect("property")
            .id
            .0
    };
    for key in ["name", "gender", "city", "country"] {
        supervisor.click(&format!("#on_{}", id_of(key))).await;
    }
    supervisor
        .click(&format!("#on_{}", id_of("loyalty_tier")))
        .await;
    let choose = |name: String, value: &'static str| {
        let driver = supervisor.driver.clone();
        async move {
            let select = driver.find(By::Name(&name)).await.expect("select");
            thirtyfour::components::SelectElement::new(&select)
                .await
                .expect("select")
                .select_by_value(value)
                .await
                .expect("choose");
        }
    };
    choose(format!("section_{}", id_of("loyalty_tier")), "basic").await;
    choose(format!("mode_{}", id_of("loyalty_tier")), "edit").await;
    supervisor.click(&format!("#on_{}", id_of("company"))).await;
    choose(format!("section_{}", id_of("company")), "additional").await;
    supervisor.click(".form-footer button[value=save]").await;
    supervisor.wait_for_text("The context card is saved").await;
    supervisor.quit().await;

    // The agent sees exactly that, edits the tier in place and opens See more.
    let Some(agent) = Chrome::start().await else {
        return;
    };
    agent.sign_in(&app.address, "ana.agent", PASSWORD).await;
    agent.wait_for_text("Sign out").await;
    agent
        .driver
        .goto(format!("{}/conversations/{known}", app.address))
        .await
        .expect("conversation");
    let basic = agent
        .driver
        .query(By::Css("#card-basic .field"))
        .all_from_selector()
        .await
        .expect("basic fields");
    assert_eq!(basic.len(), 1, "one basic attribute");
    let company = agent
        .driver
        .find(By::Css("#card-additional"))
        .await
        .expect("additional");
    assert!(
        !company.is_displayed().await.expect("visibility"),
        "additional attributes wait under See more"
    );
    agent.click("#card-more summary").await;
    assert!(company.is_displayed().await.expect("visibility"));
    assert!(
        company
            .text()
            .await
            .expect("text")
            .contains("Analytical Engines")
    );
    let tier = agent
        .driver
        .find(By::Id("p_loyalty_tier"))
        .await
        .expect("tier");
    thirtyfour::components::SelectElement::new(&tier)
        .await
        .expect("select")
        .select_by_value("Gold")
        .await
        .expect("Gold");
    // A choice on the card saves as soon as it is made.
    agent.wait_for_text("Saved on the customer").await;
    assert_eq!(
        app.value_of(&customer, "loyalty_tier").as_deref(),
        Some("Gold")
    );

    // The unknown contact is linked to the existing customer from the card.
    agent
        .driver
        .goto(format!("{}/conversations/{unknown}", app.address))
        .await
        .expect("conversation");
    agent.wait_for_text("Unknown customer").await;
    agent.fill("link-q", "Lovelace").await;
    agent.click("form[role=search] button").await;
    agent.wait_for_text("Ada Lovelace").await;
    agent.click("#link-results form button").await;
    agent.wait_for_text("Conversation linked to").await;
    assert!(
        agent
            .driver
            .source()
            .await
            .expect("source")
            .contains("id=\"card-name\">Ada Lovelace<")
    );
    agent.quit().await;
}

#[tokio::test]
async fn new_inbound_messages_appear_without_a_reload() {
    let app = spawn_app().await;
    app.create_user("ana.agent", Role::Agent);
    let token = app.api_token("gateway");
    let first = app
        .inbound(&token, serde_json::json!({"channel": "web", "external_id": "visitor-1", "display_name": "Guest", "text": "Hello"}))
        .await;
    let conversation = first["conversation_id"].as_i64().expect("conversation");
    let Some(agent) = Chrome::start().await else {
        return;
    };
    agent.sign_in(&app.address, "ana.agent", PASSWORD).await;
    agent.wait_for_text("Guest").await;
    app.inbound(&token, serde_json::json!({"channel": "telegram", "external_id": "42", "display_name": "Newcomer", "text": "Are you open today?"}))
        .await;
    agent.wait_for_text("Are you open today?").await;

    agent
        .driver
        .goto(format!("{}/conversations/{conversation}", app.address))
        .await
        .expect("conversation");
    agent.wait_for_text("Hello").await;
    app.inbound(
        &token,
        serde_json::json!({"channel": "web", "external_id": "visitor-1", "text": "Still there?"}),
    )
    .await;
    agent.wait_for_text("Still there?").await;
    agent.quit().await;
}

#[tokio::test]
async fn an_agent_works_a_conversation_with_the_panel_identities_tags_and_a_comment() {
    let app = spawn_app().await;
    app.create_user("ana.agent", Role::Agent);
    let token = app.api_token("gw");
    app.create_customer(&[("name", "Ada Lovelace"), ("phone", "+385912345678")]);
    app.with_db(|conn| clientele::db::tags::insert_tag(conn, "VIP", "gold"))
        .expect("tag");
    let id = app
        .inbound(
            &token,
            serde_json::json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "Hello"}),
        )
        .await["conversation_id"]
        .as_i64()
        .expect("a conversation");

    let Some(chrome) = Chrome::start().await else {
        return;
    };
    chrome.sign_in(&app.address, "ana.agent", PASSWORD).await;
    chrome.wait_for_text("Sign out").await;
    chrome
        .driver
        .goto(format!("{}/conversations/{id}", app.address))
        .await
        .expect("open the conversation");
    // A reply being written survives switching the panel (it swaps in place).
    chrome.fill("reply-text", "Let me check that for you").await;
    chrome
        .click("nav.panel-tabs a[href$='panel=identities']")
        .await;
    chrome.wait_for_text("Add a destination").await;
    let kept = chrome
        .driver
        .find(By::Id("reply-text"))
        .await
        .expect("the reply box")
        .prop("value")
        .await
        .expect("its value");
    assert_eq!(kept.as_deref(), Some("Let me check that for you"));
    let select = chrome
        .driver
        .find(By::Id("panel-channel"))
        .await
        .expect("channel select");
    thirtyfour::components::SelectElement::new(&select)
        .await
        .expect("select")
        .select_by_value("email")
        .await
        .expect("e-mail");
    chrome.fill("panel-external-id", "Ada@Example.com").await;
    chrome
        .click("form[action$='/identities'] button[type=submit]")
        .await;
    chrome.wait_for_text("ada@example.com").await;

    chrome.click("nav.panel-tabs a[href$='panel=tags']").await;
    chrome.wait_for_text("Add a tag").await;
    chrome
        .click("form[action$='/tags'] button[type=submit]")
        .await;
    chrome.wait_for_text("Tag added.").await;

    chrome
        .click("nav.panel-tabs a[href$='panel=conversations']")
        .await;
    chrome.wait_for_text("Comments are internal").await;
    chrome
        .fill(&format!("comment-{id}"), "Wants the invoice resent")
        .await;
    chrome
        .click("form[action$='/comments'] button[type=submit]")
        .await;
    let page = chrome.wait_for_text("Wants the invoice resent").await;
    assert!(page.contains("Comment added."));

    chrome.quit().await;
}
