//! `/insights` in Chromium: a supervisor clicks a bar and lands on the Customers page
//! filtered to that bar's customers; the page passes axe-core.

use clientele::domain::Role;
use serde_json::json;

use crate::chrome::Chrome;
use crate::helpers::{PASSWORD, spawn_app};

#[tokio::test]
async fn a_click_on_a_bar_opens_the_matching_customers() {
    let app = spawn_app().await;
    app.create_user("sam.supervisor", Role::Supervisor);
    let token = app.api_token("gateway");
    let ana = app.create_customer(&[("name", "Ana Kovač"), ("phone", "+385911111111")]);
    app.create_customer(&[("name", "Ivo Perić"), ("phone", "+385912222222")]);
    app.inbound(
        &token,
        json!({"channel": "sms", "external_id": "+385911111111", "text": "Hi"}),
    )
    .await;
    // Everyone's figures were built at start: have this week counted again.
    app.with_db(|conn| clientele::db::insights::ask_rebuild(conn, "all").expect("rebuild asked"));

    let Some(chrome) = Chrome::start().await else {
        return;
    };
    chrome
        .sign_in(&app.address, "sam.supervisor", PASSWORD)
        .await;
    chrome.wait_for_text("Sign out").await;
    let mut ready = false;
    for _ in 0..100 {
        chrome
            .driver
            .goto(format!("{}/insights?weeks=4", app.address))
            .await
            .expect("insights");
        let source = chrome.driver.source().await.expect("source");
        if source.contains("id=\"insights-updated\"") {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "the figures were built");
    let problems = chrome.accessibility_problems().await;
    assert!(problems.is_empty(), "{problems:#?}");
    chrome.screenshot("insights").await;

    // The SMS part of this week's conversations: the customers last in touch by SMS.
    chrome
        .click("#channels-chart a.bar-link:last-of-type rect")
        .await;
    let page = chrome.wait_for_text("Ana Kovač").await;
    let url = chrome.driver.current_url().await.expect("url");
    assert!(url.path() == "/customers", "{url}");
    let query = url.query().unwrap_or_default();
    assert!(
        query.contains("channel=sms") && query.contains("on=last_contact"),
        "{query}"
    );
    assert!(!page.contains("Ivo Perić"), "only the bar's customers");
    assert!(page.contains(&ana));
    chrome.quit().await;
}
