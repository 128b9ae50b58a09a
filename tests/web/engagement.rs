//! The Summary's engagement section: key figures and server-drawn charts, each with its
//! table, and only what the reader may see.

use chrono::TimeZone;
use reqwest::Method;
use serde_json::json;

use clientele::db::types::ConversationId;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_summary_shows_engagement_figures_and_charts_with_their_tables() {
    let app = spawn_app().await;
    let token = app.api_token("shop");
    let public_id = app.create_customer(&[("name", "Ada Lovelace"), ("phone", "+385912345678")]);
    let mut conversations = Vec::new();
    for channel in ["whatsapp", "sms", "whatsapp"] {
        let answer = app
            .inbound(
                &token,
                json!({"channel": channel, "external_id": "+385912345678", "text": format!("Hello on {channel}")}),
            )
            .await;
        conversations.push(ConversationId(
            answer["conversation_id"].as_i64().expect("a conversation"),
        ));
    }
    app.with_db(|conn| {
        clientele::db::conversations::update_rating(conn, conversations[0], 5).expect("rated");
        clientele::db::conversations::update_rating(conn, conversations[1], 2).expect("rated");
    });
    for (reference, total) in [("A-1", "19.99"), ("A-2", "0.01")] {
        let response = app
            .api(
                Method::PUT,
                &format!("/api/v1/customers/{public_id}/orders/{reference}"),
                &token,
                Some(json!({"placed_at": chrono::Utc::now().to_rfc3339(), "status": "paid", "total": total, "currency": "EUR", "items_summary": "Tea"})),
            )
            .await;
        assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    }
    let zone = app
        .with_db(clientele::services::settings::org_zone)
        .expect("the organisation's time zone");
    let today = zone.from_utc_datetime(&chrono::Utc::now().naive_utc());
    let this_month = today.format("%B %Y").to_string();

    let supervisor = app.supervisor().await;
    let html = supervisor.page(&format!("/customers/{public_id}")).await;
    for fact in [
        "<dt>Lifecycle stage</dt><dd>Prospect</dd>",
        "<dt>Conversations, 30 / 90 days</dt><dd>2 / 2</dd>",
        "<dt>Messages, 30 / 90 days</dt><dd>3 / 3</dd>",
        "<dt>Satisfaction, 90 days</dt><dd>3.5 of 5</dd>",
        "<dt>Orders</dt><dd>2, 20.00 EUR</dd>",
    ] {
        assert!(html.contains(fact), "{fact}");
    }
    for chart in ["conversations-chart", "satisfaction-chart", "orders-chart"] {
        assert!(html.contains(&format!("id=\"{chart}\"")), "{chart}");
    }
    // The second WhatsApp message joined the open conversation: one conversation on each
    // channel, stacked in one bar, with a legend and the month's row in the table.
    for channel in ["SMS", "WhatsApp"] {
        assert!(
            html.contains(&format!("<title>{this_month}: {channel} 1</title>")),
            "{channel}"
        );
    }
    assert!(html.contains("<li><span class=\"swatch series-0\"></span>SMS</li>"));
    assert!(html.contains("<li><span class=\"swatch series-1\"></span>WhatsApp</li>"));
    assert!(html.contains(&format!(
        "<tr><th scope=\"row\">{this_month}</th><td>1</td><td>1</td></tr>"
    )));
    assert!(html.contains(&format!(
        "<tr><th scope=\"row\">{this_month}</th><td>3.5</td></tr>"
    )));
    assert!(html.contains(&format!(
        "<tr><th scope=\"row\">{this_month}</th><td>2</td></tr>"
    )));

    // Beside the conversation, the panel's Summary opens with the same figures.
    let panel = supervisor
        .page(&format!(
            "/conversations/{}?panel=summary",
            conversations[0].0
        ))
        .await;
    assert!(panel.contains("<dt>Orders</dt><dd>2, 20.00 EUR</dd>"));
    assert!(panel.contains("id=\"conversations-chart\""));

    // Agents (in the panel beside the conversation) see what the registry lets them: here
    // the conversations and messages but neither satisfaction nor orders.
    app.with_db(|conn| {
        use clientele::db::schema::properties;
        use diesel::prelude::*;
        diesel::update(
            properties::table.filter(properties::key.eq_any(["csat_average", "orders_count"])),
        )
        .set(properties::agent_access.eq("hidden"))
        .execute(conn)
        .expect("hidden from agents");
    });
    // The agent works SMS only (a team): the WhatsApp conversation is neither counted
    // nor charted.
    let agent = app.agent_in_team("ana.agent", &["sms"]).await;
    let html = agent
        .page(&format!(
            "/conversations/{}?panel=summary",
            conversations[1].0
        ))
        .await;
    assert!(html.contains("<dt>Lifecycle stage</dt>"));
    assert!(html.contains("<dt>Conversations, 30 / 90 days</dt><dd>1 / 1</dd>"));
    assert!(html.contains("<dt>Messages, 30 / 90 days</dt><dd>1 / 1</dd>"));
    assert!(html.contains(&format!("<title>{this_month}: 1</title>")));
    assert!(!html.contains("WhatsApp 1"));
    for hidden in [
        "Satisfaction, 90",
        "satisfaction-chart",
        "<dt>Orders</dt>",
        "orders-chart",
        "20.00 EUR",
    ] {
        assert!(!html.contains(hidden), "{hidden}");
    }
}
