//! The API reads strictly: unknown fields and wrong JSON types are refused at the field,
//! every refusal is JSON with its right status, counters are integers, and a customer's
//! version is its ETag.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::spawn_app;

/// The fields a JSON refusal names.
async fn fields_of(response: reqwest::Response) -> Vec<String> {
    let body: Value = response.json().await.expect("a JSON error body");
    body["fields"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|f| f["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn fields_the_api_does_not_know_or_of_the_wrong_type_are_refused_by_name() {
    let app = spawn_app().await;
    let token = app.api_token("crm");
    app.create_property("home", "location", &[], "edit");
    app.create_property("hobbies", "multiple_choice", &["Chess", "Go"], "edit");
    let customers = |app: &crate::helpers::TestApp| -> i64 {
        use diesel::prelude::*;
        app.with_db(|conn| {
            clientele::db::schema::customers::table
                .count()
                .get_result(conn)
                .expect("count")
        })
    };

    // Properties given beside `properties` create no empty customer.
    let response = app
        .api(
            Method::POST,
            "/api/v1/customers",
            &token,
            Some(json!({"name": "Ada", "email": "ada@example.com"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields_of(response).await, ["name"]);
    assert_eq!(customers(&app), 0);

    let created: Value = app
        .api(
            Method::POST,
            "/api/v1/customers",
            &token,
            Some(json!({"properties": {"name": "Ada"}})),
        )
        .await
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/customers/{id}");

    // A number is not a name, 5 is not an address, "Chess" is not a list.
    for (body, field) in [
        (json!({"properties": {"name": 5}}), "properties.name"),
        (json!({"properties": {"home": 5}}), "properties.home"),
        (
            json!({"properties": {"hobbies": "Chess"}}),
            "properties.hobbies",
        ),
        (
            json!({"properties": {"home": {"street": "Main"}}}),
            "properties.home",
        ),
        (json!({"version": "one"}), "version"),
        (json!({"tags": "VIP"}), "tags"),
        (
            json!({"properties": {"name": "Ada"}, "colour": "red"}),
            "colour",
        ),
    ] {
        let response = app
            .api(Method::PATCH, &path, &token, Some(body.clone()))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        assert_eq!(fields_of(response).await, [field], "{body}");
    }
    let unchanged: Value = app
        .api(Method::GET, &path, &token, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(unchanged["properties"]["name"], "Ada");
    assert_eq!(unchanged["version"], created["version"]);

    // Unknown fields of an inbound message, and of nested objects, are named too.
    let response = app
        .api(
            Method::POST,
            "/api/v1/messages",
            &token,
            Some(json!({"channel": "sms", "external_id": "+385912345678", "text": "hi", "web": {"ip": "1.2.3.4", "browser": "x"}})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields_of(response).await, ["web.browser"]);
}

#[tokio::test]
async fn every_refusal_is_json_with_its_own_status() {
    let app = spawn_app().await;
    let token = app.api_token("crm");
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", app.address);

    // A query parameter of the wrong type, or unknown.
    for (path, field) in [
        ("/api/v1/customers?limit=many", "limit"),
        ("/api/v1/customers?colour=red", "colour"),
    ] {
        let response = client
            .get(url(path))
            .bearer_auth(&token)
            .send()
            .await
            .expect("sent");
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}"
        );
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap_or_default()
                .starts_with("application/json")
        );
        assert_eq!(fields_of(response).await, [field], "{path}");
    }

    // Over the size limit: 413, as JSON.
    let big = json!({"properties": {"name": "x".repeat(300 * 1024)}});
    let response = client
        .post(url("/api/v1/customers"))
        .bearer_auth(&token)
        .json(&big)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(body["error"], "payload_too_large");

    // Not JSON at all: 415, as JSON.
    let response = client
        .post(url("/api/v1/customers"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("name=Ada")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(body["error"], "unsupported_media_type");

    // Broken JSON names where it broke off.
    let response = client
        .post(url("/api/v1/customers"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"properties\": ")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields_of(response).await, ["properties"]);
}

/// PATCHes `body` with an `If-Match` header.
async fn patch_if_match(url: &str, token: &str, tag: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .patch(url)
        .bearer_auth(token)
        .header("if-match", tag)
        .json(&body)
        .send()
        .await
        .expect("sent")
}

#[tokio::test]
async fn counters_are_integers_and_the_version_is_the_etag() {
    let app = spawn_app().await;
    let token = app.api_token("crm");
    let answer = app
        .inbound(
            &token,
            json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "hello"}),
        )
        .await;
    assert!(answer["customer_id"].is_null());
    let created: Value = app
        .api(
            Method::POST,
            "/api/v1/customers",
            &token,
            Some(json!({"properties": {"name": "Ada", "phone": "+385912345678"}})),
        )
        .await
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/customers/{id}");
    let client = reqwest::Client::new();
    let url = format!("{}{path}", app.address);

    let response = client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent");
    let etag = response.headers()["etag"]
        .to_str()
        .expect("etag")
        .to_owned();
    let body: Value = response.json().await.expect("json");
    assert_eq!(etag, format!("\"{}\"", body["version"]));
    let count = &body["properties"]["conversations_count"];
    assert!(count.is_i64(), "a counter is an integer: {count}");

    // Unchanged since that version: 304.
    let response = client
        .get(&url)
        .bearer_auth(&token)
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);

    // A change based on that version succeeds and gives the next ETag.
    let response = patch_if_match(
        &url,
        &token,
        &etag,
        json!({"properties": {"name": "Ada L."}}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let next = response.headers()["etag"]
        .to_str()
        .expect("etag")
        .to_owned();
    assert_ne!(next, etag);

    // The old version again: 412, and nothing changes.
    let response = patch_if_match(
        &url,
        &token,
        &etag,
        json!({"properties": {"name": "Someone Else"}}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "precondition_failed");
    let response = patch_if_match(
        &url,
        &token,
        "W/\"soon\"",
        json!({"properties": {"name": "Someone Else"}}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields_of(response).await, ["If-Match"]);
    let stored: Value = app
        .api(Method::GET, &path, &token, None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(stored["properties"]["name"], "Ada L.");
}
