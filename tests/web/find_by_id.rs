//! Finding a customer by any of their ids — on the Customers page, in the card's link
//! search and in the merge picker — QQ as a channel, and the list's Callback, which goes on
//! in a conversation already open on the identity.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{location, spawn_app};

#[tokio::test]
async fn the_customers_page_finds_a_customer_by_the_start_of_any_channel_id_in_any_case() {
    let app = spawn_app().await;
    let wei = app.create_customer(&[("name", "Wei")]);
    app.add_identity(&wei, "wechat", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
    let john = app.create_customer(&[("name", "John")]);
    app.add_identity(&john, "instagram", "@John.Doe");
    let li = app.create_customer(&[("name", "Li")]);
    app.add_identity(&li, "qq", "123456789");
    let ada = app.create_customer(&[("name", "Ada")]);
    app.add_identity(&ada, "sms", "+385912345678");
    let supervisor = app.supervisor().await;
    for (typed, wanted) in [
        ("OUPF8UMU", &wei),
        ("@john.d", &john),
        ("12345", &li),
        ("00385 91 234 5678", &ada),
    ] {
        let page = supervisor
            .page(&format!(
                "/customers?period=all&contact={}",
                typed.replace('@', "%40").replace(' ', "+")
            ))
            .await;
        assert!(page.contains(&format!("/customers/{wanted}\"")), "{typed}");
        for other in [&wei, &john, &li, &ada]
            .into_iter()
            .filter(|o| *o != wanted)
        {
            assert!(
                !page.contains(&format!("/customers/{other}\"")),
                "{typed} not {other}"
            );
        }
    }
    let page = supervisor.page("/customers?period=all&contact=zzz").await;
    assert!(page.contains("No customers match"));
}

#[tokio::test]
async fn the_card_links_an_unknown_contact_to_a_customer_found_by_a_channel_id() {
    let app = spawn_app().await;
    let token = app.api_token("gw");
    let wei = app.create_customer(&[("name", "Wei")]);
    app.add_identity(&wei, "weibo", "123e4567-e89b-12d3-a456-426614174000");
    let answer = app
        .inbound(
            &token,
            json!({"channel": "qq", "external_id": "987654321", "text": "你好"}),
        )
        .await;
    let conversation = answer["conversation_id"].as_i64().expect("a conversation");
    let agent = app.agent().await;
    let results = agent
        .page(&format!("/conversations/{conversation}?q=123E4567"))
        .await;
    assert!(results.contains(&format!("name=\"customer_id\" value=\"{wei}\"")));
    // The QQ contact itself shows its channel.
    assert!(
        agent
            .page(&format!("/conversations/{conversation}"))
            .await
            .contains("QQ")
    );
}

#[tokio::test]
async fn a_callback_goes_on_in_the_open_conversation_of_the_identity() {
    let app = spawn_app().await;
    app.create_user("sam", clientele::domain::Role::Supervisor);
    let ada = app.create_customer(&[("name", "Ada")]);
    app.add_identity(&ada, "whatsapp", "+385912345678");
    let supervisor = app.supervisor().await;
    let list = supervisor.page("/customers?period=all").await;
    assert!(list.contains(&format!("href=\"/customers/{ada}/profile#contact\"")));
    let identity = app.with_db(|conn| {
        clientele::db::identities::list_customer_identities(conn, app.customer(&ada).id)
            .expect("identities")[0]
            .id
            .0
    });
    let call = |text: &'static str| {
        let identity = identity.to_string();
        let supervisor = &supervisor;
        let ada = ada.clone();
        async move {
            supervisor
                .post_form(
                    &format!("/customers/{ada}/contact"),
                    &[("identity_id", &identity), ("text", text)],
                )
                .await
        }
    };
    let first = call("We tried to reach you").await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert!(
        supervisor
            .page(&location(&first))
            .await
            .contains("a new conversation is open")
    );
    let second = call("Calling again").await;
    assert!(
        supervisor
            .page(&location(&second))
            .await
            .contains("already open on this identity")
    );
    let customer = app.customer(&ada);
    assert_eq!(customer.conversations_count, 1, "no second conversation");
    assert_eq!(customer.messages_count, 2);
}
