//! Browser tests of the conversation page's saves without reloads: nothing an agent typed
//! is lost to another action or a reload.

use std::time::{Duration, Instant};

use clientele::domain::Role;
use thirtyfour::prelude::*;

use crate::chrome::Chrome;
use crate::helpers::{PASSWORD, TestApp, spawn_app};

/// WebDriver's Enter key.
const ENTER: &str = "\u{E007}";

/// Waits until `check` holds for the app's database.
async fn until(app: &TestApp, what: &str, mut check: impl FnMut(&TestApp) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check(app) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the page has no save in flight.
async fn settled(agent: &Chrome) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let saving = agent
            .driver
            .execute(
                "return document.body.dataset.saving === 'true';",
                Vec::new(),
            )
            .await
            .expect("saving")
            .json()
            .as_bool();
        if saving == Some(false) {
            return;
        }
        assert!(Instant::now() < deadline, "a save never ended");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn reply_box(agent: &Chrome) -> String {
    agent
        .driver
        .find(By::Id("reply-text"))
        .await
        .expect("reply box")
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default()
}

#[tokio::test]
async fn an_agent_edits_the_card_and_adds_a_note_while_a_reply_waits_then_sends_it() {
    let app = spawn_app().await;
    app.create_user("ana.agent", Role::Agent);
    app.create_property(
        "loyalty_tier",
        "single_choice",
        &["Bronze", "Silver", "Gold"],
        "edit",
    );
    let customer = app.create_customer(&[
        ("name", "Ada Lovelace"),
        ("phone", "+385912345678"),
        ("city", "Zagreb"),
        ("loyalty_tier", "Bronze"),
    ]);
    app.with_db(|conn| {
        let properties = clientele::db::properties::list_properties(conn).expect("registry");
        let id = |key: &str| properties.iter().find(|p| p.key == key).expect(key).id;
        clientele::db::card::replace_card(
            conn,
            &[
                (id("name"), 0, "basic", "view"),
                (id("city"), 1, "basic", "edit"),
                (id("loyalty_tier"), 2, "basic", "edit"),
            ],
        )
        .expect("card")
    });
    let token = app.api_token("gateway");
    let conversation = app
        .inbound(&token, serde_json::json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "Hi, I moved"}))
        .await["conversation_id"]
        .as_i64()
        .expect("conversation");

    let Some(agent) = Chrome::start().await else {
        return;
    };
    agent.sign_in(&app.address, "ana.agent", PASSWORD).await;
    agent.wait_for_text("Sign out").await;
    let page = format!("{}/conversations/{conversation}", app.address);
    agent.driver.goto(&page).await.expect("conversation");
    agent.wait_for_text("Hi, I moved").await;
    // A mark on this page's window: a reload would wipe it.
    agent
        .driver
        .execute("window.notReloaded = true;", Vec::new())
        .await
        .expect("mark");
    // At 1366 px the queue sits beside the thread.
    agent
        .driver
        .set_window_rect(0, 0, 1366, 900)
        .await
        .expect("a laptop's screen");
    let beside = agent
        .driver
        .find(By::Id("queue-list"))
        .await
        .expect("queue");
    assert!(beside.is_displayed().await.expect("visibility"));
    agent.fill("reply-text", "Thanks Ada, noted").await;

    // The city: typed in place, saved by Enter on its own.
    let city = agent.driver.find(By::Id("p_city")).await.expect("city");
    city.clear().await.expect("clear");
    city.send_keys(format!("Split{ENTER}")).await.expect("type");
    until(&app, "the city saved", |app| {
        app.value_of(&customer, "city").as_deref() == Some("Split")
    })
    .await;
    agent.wait_for_text("Saved on the customer").await;
    settled(&agent).await;
    // The tier: saved as soon as it is chosen.
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
    until(&app, "the tier saved", |app| {
        app.value_of(&customer, "loyalty_tier").as_deref() == Some("Gold")
    })
    .await;
    settled(&agent).await;
    // A note, posted in the background.
    agent
        .fill("note-body", "Prefers calls in the morning")
        .await;
    agent.click("form.note-form button[type=submit]").await;
    agent.wait_for_text("Note added to the customer").await;

    assert_eq!(
        reply_box(&agent).await,
        "Thanks Ada, noted",
        "the reply survived"
    );
    let not_reloaded = agent
        .driver
        .execute("return window.notReloaded === true;", Vec::new())
        .await
        .expect("mark")
        .json()
        .as_bool();
    assert_eq!(not_reloaded, Some(true), "no action reloaded the page");
    let shown_city = agent
        .driver
        .find(By::Id("p_city"))
        .await
        .expect("city")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(shown_city.as_deref(), Some("Split"));

    // A reload keeps the draft too; sending it clears it for good.
    agent.driver.goto(&page).await.expect("reload");
    agent.wait_for_text("Hi, I moved").await;
    assert_eq!(
        reply_box(&agent).await,
        "Thanks Ada, noted",
        "kept by the browser"
    );
    agent.click("form.reply button[type=submit]").await;
    until(&app, "the reply stored", |app| {
        app.with_db(|conn| {
            use clientele::db::schema::messages::dsl::*;
            use diesel::prelude::*;
            messages
                .filter(body.eq("Thanks Ada, noted"))
                .count()
                .get_result::<i64>(conn)
                .expect("count")
                == 1
        })
    })
    .await;
    agent.wait_for_text("Thanks Ada, noted</p>").await;
    assert_eq!(reply_box(&agent).await, "");
    agent.driver.goto(&page).await.expect("reload");
    agent.wait_for_text("Hi, I moved").await;
    assert_eq!(reply_box(&agent).await, "", "the sent draft is forgotten");
    agent.quit().await;
}

#[tokio::test]
async fn a_reply_refused_because_the_conversation_closed_meanwhile_stays_in_the_box() {
    let app = spawn_app().await;
    app.create_user("ana.agent", Role::Agent);
    app.create_customer(&[("name", "Ada Lovelace"), ("phone", "+385912345678")]);
    let token = app.api_token("gateway");
    let conversation = app
        .inbound(&token, serde_json::json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "Hello"}))
        .await["conversation_id"]
        .as_i64()
        .expect("conversation");
    let Some(agent) = Chrome::start().await else {
        return;
    };
    agent.sign_in(&app.address, "ana.agent", PASSWORD).await;
    agent.wait_for_text("Sign out").await;
    agent
        .driver
        .goto(format!("{}/conversations/{conversation}", app.address))
        .await
        .expect("conversation");
    agent.wait_for_text("Hello").await;
    agent.fill("reply-text", "Here is what I found").await;
    // A colleague closes the conversation meanwhile.
    app.with_db(|conn| {
        clientele::services::conversations::workspace::close(
            conn,
            clientele::db::types::ConversationId(conversation),
        )
    })
    .expect("closed");
    agent.click("form.reply button[type=submit]").await;
    agent.wait_for_text("This conversation is closed").await;
    settled(&agent).await;
    agent
        .wait_for_text("Your unsent text, to copy: Here is what I found")
        .await;
    // The box is gone with the open conversation; the text stays on screen and in the
    // browser.
    let kept = agent
        .driver
        .execute(
            &format!(
                "return window.localStorage.getItem('clientele.draft.conversation-{conversation}');"
            ),
            Vec::new(),
        )
        .await
        .expect("storage")
        .json()
        .as_str()
        .map(str::to_owned);
    assert_eq!(kept.as_deref(), Some("Here is what I found"));
    agent.quit().await;
}
