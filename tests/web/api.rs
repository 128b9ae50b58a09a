//! The customers API and its OpenAPI document.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn an_integration_creates_reads_and_patches_a_customer_with_the_forms_rules() {
    let app = spawn_app().await;
    let token = app.api_token("crm-sync");
    app.create_property("loyalty_tier", "single_choice", &["Bronze", "Gold"], "edit");
    app.create_property("interests", "multiple_choice", &["Music", "Travel"], "edit");
    app.create_property("home", "location", &[], "hidden");
    app.with_db(|conn| clientele::db::tags::insert_tag(conn, "VIP", "#c0352b").unwrap());

    let response = app
        .api(Method::POST, "/api/v1/customers", &token, Some(json!({
            "properties": {"name": "Ada", "phone": "+1 555 765 4321", "loyalty_tier": "Gold",
                "interests": ["Travel", "Music"], "home": {"address": "Paris", "latitude": 48.85, "longitude": 2.29}},
            "tags": ["vip"]
        })))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: serde_json::Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["properties"]["phone"], "+15557654321");
    assert_eq!(
        created["properties"]["interests"],
        json!(["Music", "Travel"])
    );
    assert_eq!(created["properties"]["home"]["latitude"], 48.85);
    assert_eq!(created["tags"], json!(["VIP"]));

    let fetched: serde_json::Value = app
        .api(
            Method::GET,
            &format!("/api/v1/customers/{id}"),
            &token,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["properties"]["name"], "Ada");
    let version = fetched["version"].as_i64().unwrap();

    let response = app
        .api(
            Method::PATCH,
            &format!("/api/v1/customers/{id}"),
            &token,
            Some(json!({"properties": {"loyalty_tier": "Platinum", "email": "a@b"}})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: serde_json::Value = response.json().await.unwrap();
    let fields: Vec<&str> = error["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"properties.loyalty_tier") && fields.contains(&"properties.email"),
        "{fields:?}"
    );

    let response = app
        .api(
            Method::PATCH,
            &format!("/api/v1/customers/{id}"),
            &token,
            Some(json!({"properties": {"orders_count": 9}})),
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "computed properties are read-only"
    );

    let response = app
        .api(
            Method::PATCH,
            &format!("/api/v1/customers/{id}"),
            &token,
            Some(json!({"properties": {"city": "Zagreb"}, "version": version})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app
        .api(
            Method::PATCH,
            &format!("/api/v1/customers/{id}"),
            &token,
            Some(json!({"properties": {"city": "Split"}, "version": version})),
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::CONFLICT,
        "a stale version is refused"
    );
    assert_eq!(app.value_of(&id, "city").as_deref(), Some("Zagreb"));

    let supervisor = app.supervisor().await;
    let history = supervisor.page(&format!("/customers/{id}/history")).await;
    assert!(
        history.contains("Integration crm-sync"),
        "the token is recorded as the author"
    );
}

#[tokio::test]
async fn identities_and_tags_are_managed_over_the_api() {
    let app = spawn_app().await;
    let token = app.api_token("crm-sync");
    app.with_db(|conn| clientele::db::tags::insert_tag(conn, "VIP", "#c0352b").unwrap());
    let ada = app.create_customer(&[("name", "Ada")]);
    let bob = app.create_customer(&[("name", "Bob")]);
    let path = format!("/api/v1/customers/{ada}/identities");
    let response = app
        .api(
            Method::POST,
            &path,
            &token,
            Some(json!({"channel": "whatsapp", "external_id": "+1 (555) 123-4567"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["identities"],
        json!([{"channel": "whatsapp", "external_id": "+15551234567"}])
    );
    let response = app
        .api(
            Method::POST,
            &format!("/api/v1/customers/{bob}/identities"),
            &token,
            Some(json!({"channel": "whatsapp", "external_id": "+15551234567"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: serde_json::Value = response.json().await.unwrap();
    assert!(
        error["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&ada),
        "names the owner"
    );
    let response = app
        .api(
            Method::DELETE,
            &format!("/api/v1/customers/{ada}/identities/whatsapp/+15551234567"),
            &token,
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let response = app
        .api(
            Method::POST,
            &format!("/api/v1/customers/{ada}/tags"),
            &token,
            Some(json!({"tag": "VIP"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app
        .api(
            Method::POST,
            &format!("/api/v1/customers/{ada}/tags"),
            &token,
            Some(json!({"tag": "Nope"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = app
        .api(
            Method::DELETE,
            &format!("/api/v1/customers/{ada}/tags/vip"),
            &token,
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = app
        .api(Method::GET, "/api/v1/customers/C9999999", &token, None)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_customer_feed_pages_by_last_change_without_gaps() {
    let app = spawn_app().await;
    let token = app.api_token("crm-sync");
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(app.create_customer(&[("name", &format!("Customer {i}"))]));
    }
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let path = match &next {
            Some(cursor) => format!("/api/v1/customers?limit=3&after={cursor}"),
            None => "/api/v1/customers?limit=3&updated_since=2000-01-01T00:00:00Z".to_owned(),
        };
        let page: serde_json::Value = app
            .api(Method::GET, &path, &token, None)
            .await
            .json()
            .await
            .unwrap();
        for customer in page["customers"].as_array().unwrap() {
            seen.push(customer["id"].as_str().unwrap().to_owned());
        }
        match page["next"].as_str() {
            Some(cursor) => next = Some(cursor.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, created);
    let response = app
        .api(
            Method::GET,
            "/api/v1/customers?updated_since=last+week",
            &token,
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn orders_are_idempotent_by_reference_and_counted() {
    let app = spawn_app().await;
    let token = app.api_token("shop");
    let customer = app.create_customer(&[("name", "Ada")]);
    let path = format!("/api/v1/customers/{customer}/orders/SO-1001");
    let order = json!({"placed_at": "2026-11-20T10:00:00Z", "status": "paid", "total": "59.90", "currency": "eur", "items_summary": "2 × T-shirt"});
    assert_eq!(
        app.api(Method::PUT, &path, &token, Some(order.clone()))
            .await
            .status(),
        StatusCode::CREATED
    );
    let mut shipped = order.clone();
    shipped["status"] = json!("shipped");
    assert_eq!(
        app.api(Method::PUT, &path, &token, Some(shipped))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(app.customer(&customer).orders_count, 1);
    let mut bad = order;
    bad["total"] = json!("59,90");
    bad["currency"] = json!("euro");
    let response = app
        .api(
            Method::PUT,
            &format!("/api/v1/customers/{customer}/orders/SO-1002"),
            &token,
            Some(bad),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let supervisor = app.supervisor().await;
    let page = supervisor
        .page(&format!("/customers/{customer}/orders"))
        .await;
    assert!(page.contains("SO-1001") && page.contains("shipped") && page.contains("59.90 EUR"));
}

#[tokio::test]
async fn the_openapi_document_lists_every_api_route_and_each_is_served() {
    let app = spawn_app().await;
    let token = app.api_token("docs");
    let response = reqwest::get(format!("{}/api/v1/openapi.json", app.address))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let doc: serde_json::Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    let expected = [
        ("/api/v1/messages", "post"),
        ("/api/v1/conversations/{id}/rating", "post"),
        ("/api/v1/customers", "get"),
        ("/api/v1/customers", "post"),
        ("/api/v1/customers/{id}", "get"),
        ("/api/v1/customers/{id}", "patch"),
        ("/api/v1/customers/{id}/export", "get"),
        ("/api/v1/customers/{id}", "delete"),
        ("/api/v1/customers/{id}/merge", "post"),
        ("/api/v1/customers/{id}/identities", "post"),
        (
            "/api/v1/customers/{id}/identities/{channel}/{external_id}",
            "delete",
        ),
        ("/api/v1/customers/{id}/tags", "post"),
        ("/api/v1/customers/{id}/tags/{tag}", "delete"),
        ("/api/v1/customers/{id}/orders/{order_ref}", "put"),
    ];
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        documented,
        expected.len(),
        "nothing undocumented, nothing extra"
    );
    for (path, method) in expected {
        assert!(
            paths[path][method].is_object(),
            "{method} {path} is documented"
        );
        // And the server has that route: a real request never falls through to 404/405.
        let concrete = path
            .replace("{id}", "C0000001")
            .replace("{channel}", "web")
            .replace("{external_id}", "v1")
            .replace("{tag}", "x")
            .replace("{order_ref}", "o1");
        let concrete = if path.starts_with("/api/v1/conversations") {
            concrete.replace("C0000001", "1")
        } else {
            concrete
        };
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let response = app
            .api(method.clone(), &concrete, &token, Some(json!({})))
            .await;
        assert_ne!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {concrete}"
        );
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        assert_ne!(body["error"], "no_route", "{method} {concrete} is routed");
    }
}

#[tokio::test]
async fn values_of_the_wrong_json_type_are_refused_at_their_field() {
    let app = spawn_app().await;
    let token = app.api_token("crm-sync");
    app.create_property("interests", "multiple_choice", &["Music", "Travel"], "edit");
    let response = app
        .api(Method::POST, "/api/v1/customers", &token, Some(json!({"properties": {"name": true, "city": {"x": 1}, "interests": "Music", "no_such_property": "x"}})))
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: serde_json::Value = response.json().await.unwrap();
    let fields: Vec<&str> = error["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"properties.name") && fields.contains(&"properties.city"),
        "{fields:?}"
    );
    // A single string is not taken for a list; an unknown property is named.
    let response = app
        .api(
            Method::POST,
            "/api/v1/customers",
            &token,
            Some(json!({"properties": {"interests": "Music", "no_such_property": "x"}})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: serde_json::Value = response.json().await.unwrap();
    let fields: Vec<&str> = error["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["properties.interests", "properties.no_such_property"]
    );
    let stored: i64 = app.with_db(|conn| {
        use diesel::prelude::*;
        clientele::db::schema::customers::table
            .count()
            .get_result(conn)
            .unwrap()
    });
    assert_eq!(stored, 0, "nothing is half-written");
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_and_other_schemes_are_refused() {
    let app = spawn_app().await;
    let token = app.api_token("crm-sync");
    let client = reqwest::Client::new();
    for (header, expected) in [
        (format!("bearer {token}"), StatusCode::OK),
        (format!("BEARER {token}"), StatusCode::OK),
        (format!("Basic {token}"), StatusCode::UNAUTHORIZED),
        (token.clone(), StatusCode::UNAUTHORIZED),
    ] {
        let response = client
            .get(format!("{}/api/v1/customers", app.address))
            .header("Authorization", header.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{header}");
    }
}
