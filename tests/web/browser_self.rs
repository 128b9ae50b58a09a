//! The customer's side in Chromium, on a phone: the self-service link (a link preview
//! leaves it working), the page's fields and choices, a language found by typing, and
//! asking for a link by phone number.

use clientele::domain::Role;
use thirtyfour::prelude::*;

use crate::chrome::Chrome;
use crate::helpers::{PASSWORD, TestApp, spawn_app};

/// The self-service link a customer gets by texting the keyword.
pub async fn link_of(app: &TestApp, token: &str, phone: &str) -> String {
    let answer = app
        .inbound(
            token,
            serde_json::json!({"channel": "whatsapp", "external_id": phone, "text": "profile"}),
        )
        .await;
    let reply = answer["replies"][0]["text"].as_str().expect("a reply");
    let start = reply.find("http://").expect("a URL");
    reply[start..]
        .split_whitespace()
        .next()
        .expect("the link")
        .to_owned()
}

#[tokio::test]
async fn a_customer_on_a_phone_fixes_a_date_and_choices_that_the_agent_then_sees() {
    let app = spawn_app().await;
    app.create_user("ana.agent", Role::Agent);
    app.create_property("birthday", "date", &[], "view");
    app.create_property(
        "interests",
        "multiple_choice",
        &["Sports", "Music", "Travel"],
        "view",
    );
    app.with_db(|conn| {
        use clientele::db::schema::properties::dsl::*;
        use diesel::prelude::*;
        diesel::update(properties.filter(key.eq_any(["birthday", "interests"])))
            .set(customer_access.eq("edit"))
            .execute(conn)
            .expect("customer access");
        let registry = clientele::db::properties::list_properties(conn).expect("registry");
        let id_of = |k: &str| registry.iter().find(|p| p.key == k).expect("property").id;
        clientele::db::card::replace_card(
            conn,
            &[
                (id_of("name"), 0, "basic", "view"),
                (id_of("birthday"), 10, "basic", "view"),
                (id_of("interests"), 20, "basic", "view"),
            ],
        )
        .expect("card");
    });
    let customer = app.create_customer(&[
        ("name", "Ada Lovelace"),
        ("phone", "+385912345678"),
        ("birthday", "1990-01-01"),
        ("interests", "Sports"),
    ]);
    let token = app.api_token("gateway");
    let answer = app
        .inbound(&token, serde_json::json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "profile"}))
        .await;
    let reply = answer["replies"][0]["text"]
        .as_str()
        .expect("a reply")
        .to_owned();
    let start = reply.find("http://").expect("a URL");
    let url: String = reply[start..]
        .split_whitespace()
        .next()
        .expect("url")
        .to_owned();

    let Some(phone) = Chrome::start().await else {
        return;
    };
    phone
        .driver
        .set_window_rect(0, 0, 375, 812)
        .await
        .expect("phone size");
    phone.driver.goto(url).await.expect("open the link");
    phone.wait_for_text("Open my profile").await;
    phone.click("#open-profile").await;
    phone.wait_for_text("Your details").await;
    assert!(
        phone.driver.current_url().await.expect("url").path() == "/s/profile",
        "the token left the address bar"
    );
    let width: i64 = phone
        .driver
        .execute("return document.documentElement.scrollWidth;", Vec::new())
        .await
        .expect("script")
        .convert()
        .expect("number");
    assert!(
        width <= 375,
        "no horizontal scrolling at phone width ({width}px)"
    );
    let birthday = phone
        .driver
        .find(By::Id("p_birthday"))
        .await
        .expect("birthday");
    phone
        .driver
        .execute(
            "arguments[0].value = '1990-12-10';",
            vec![birthday.to_json().expect("json")],
        )
        .await
        .expect("set the date");
    phone.click("input[name=p_interests][value=Sports]").await;
    phone.click("input[name=p_interests][value=Travel]").await;
    phone
        .click("form[action='/s/profile'] button[type=submit]")
        .await;
    phone.wait_for_text("your details are saved").await;
    phone.quit().await;

    assert_eq!(
        app.value_of(&customer, "birthday").as_deref(),
        Some("1990-12-10")
    );
    assert_eq!(
        app.value_of(&customer, "interests").as_deref(),
        Some("Travel")
    );

    let Some(agent) = Chrome::start().await else {
        return;
    };
    agent.sign_in(&app.address, "ana.agent", PASSWORD).await;
    agent.wait_for_text("Sign out").await;
    let conversation = answer["conversation_id"].as_i64().expect("conversation");
    agent
        .driver
        .goto(format!("{}/conversations/{conversation}", app.address))
        .await
        .expect("conversation");
    let card = agent
        .driver
        .find(By::Id("card-basic"))
        .await
        .expect("card")
        .text()
        .await
        .expect("text");
    assert!(
        card.contains("1990-12-10") && card.contains("Travel") && !card.contains("Sports"),
        "{card}"
    );
    agent.quit().await;
}

#[tokio::test]
async fn a_link_preview_leaves_the_self_service_link_working_for_the_customer() {
    let app = spawn_app().await;
    app.create_customer(&[("name", "Ada"), ("phone", "+385912345678")]);
    let token = app.api_token("gateway");
    let link = link_of(&app, &token, "+385912345678").await;
    // A messaging app fetches the link to show a preview, without cookies or a click.
    let preview = reqwest::Client::new()
        .get(&link)
        .header("User-Agent", "WhatsApp/2.23 link preview")
        .send()
        .await
        .expect("the preview fetch");
    assert_eq!(preview.status(), reqwest::StatusCode::OK);
    let Some(phone) = Chrome::start().await else {
        return;
    };
    phone.driver.goto(link.clone()).await.expect("the link");
    phone.wait_for_text("Open my profile").await;
    phone.click("#open-profile").await;
    phone.wait_for_text("Your details").await;
    phone.quit().await;
}

#[tokio::test]
async fn a_customer_on_a_phone_finds_their_language_by_typing_part_of_it() {
    let app = spawn_app().await;
    let ada = app.create_customer(&[("name", "Ada"), ("phone", "+385912345678")]);
    let token = app.api_token("gateway");
    let link = link_of(&app, &token, "+385912345678").await;
    let Some(phone) = Chrome::start().await else {
        return;
    };
    phone
        .driver
        .set_window_rect(0, 0, 360, 740)
        .await
        .expect("a phone screen");
    phone.driver.goto(link).await.expect("the link");
    phone.wait_for_text("Open my profile").await;
    phone.click("#open-profile").await;
    phone.wait_for_text("Your details").await;
    let filter = phone
        .driver
        .query(By::Css("input.select-filter[aria-controls='p_language']"))
        .first()
        .await
        .expect("a box to find a language");
    filter.send_keys("croat").await.expect("type");
    let offered: Vec<String> = phone
        .driver
        .execute(
            "return [...document.getElementById('p_language').options].map((o) => o.textContent);",
            Vec::new(),
        )
        .await
        .expect("the options")
        .convert()
        .expect("a list");
    assert!(
        offered.len() <= 3 && offered.iter().any(|o| o.contains("Croatian")),
        "{offered:?}"
    );
    phone
        .driver
        .query(By::Css("#p_language option[value='hr']"))
        .first()
        .await
        .expect("Croatian")
        .click()
        .await
        .expect("choose it");
    phone
        .click("form[action='/s/profile'] button[type=submit]")
        .await;
    phone.wait_for_text("saved").await;
    assert_eq!(app.value_of(&ada, "language").as_deref(), Some("hr"));
    phone.quit().await;
}
#[tokio::test]
async fn a_customer_on_a_phone_asks_for_their_link_twice() {
    let app = spawn_app().await;
    app.create_customer(&[("name", "Ada"), ("phone", "+385912345678")]);
    // A receiver on the loopback that nobody answers: the link waits in the outbox.
    app.with_db(|conn| {
        clientele::db::settings::upsert_setting(
            conn,
            clientele::db::types::Setting::WebhookUrl,
            "http://127.0.0.1:9/receiver",
        )
    })
    .expect("webhook");
    let Some(chrome) = Chrome::start().await else {
        return;
    };
    chrome
        .driver
        .set_window_rect(0, 0, 360, 740)
        .await
        .expect("a phone-sized window");
    chrome
        .driver
        .goto(format!("{}/s", app.address))
        .await
        .expect("open the page");
    chrome.fill("phone", "091 234 5678").await;
    chrome.click("form[action='/s'] button[type=submit]").await;
    chrome
        .wait_for_text("Enter your phone number with its country code")
        .await;
    chrome.fill("phone", "+385 91 234 5678").await;
    chrome.click("form[action='/s'] button[type=submit]").await;
    // Sent (or, once the unreachable receiver was tried, said to have failed).
    chrome.wait_for_text("id=\"request-notice\"").await;
    chrome.fill("phone", "+385 91 234 5678").await;
    chrome.click("form[action='/s'] button[type=submit]").await;
    chrome
        .wait_for_text("Please allow a full minute between phone number submissions.")
        .await;
    // The page fits the phone: nothing wider than the screen.
    let width = chrome
        .driver
        .execute("return document.documentElement.scrollWidth;", Vec::new())
        .await
        .expect("width")
        .json()
        .as_i64()
        .expect("a number");
    assert!(width <= 360, "the page is {width}px wide");

    chrome.quit().await;
}
