//! Possible duplicates on a profile: customers sharing an e-mail (without case) or a phone;
//! "not the same person" keeps a pair from being suggested again.

use reqwest::StatusCode;

use crate::helpers::{location, spawn_app};

#[tokio::test]
async fn customers_sharing_an_email_or_a_phone_are_suggested_until_dismissed() {
    let app = spawn_app().await;
    let ada = app.create_customer(&[
        ("name", "Ada"),
        ("email", "ada@example.com"),
        ("phone", "+385912345678"),
    ]);
    let twin = app.create_customer(&[("name", "Ada L."), ("email", "ADA@example.com")]);
    let phone = app.create_customer(&[("name", "A. Lovelace"), ("phone", "+385912345678")]);
    let stranger = app.create_customer(&[("name", "Bob"), ("email", "bob@example.com")]);
    let supervisor = app.supervisor().await;

    let page = supervisor
        .page(&format!("/customers/{ada}/identities"))
        .await;
    assert!(page.contains("Possible duplicates of this customer"));
    assert!(page.contains(&format!("id=\"duplicate-{twin}\"")));
    assert!(page.contains(&format!("id=\"duplicate-{phone}\"")));
    assert!(page.contains("same e-mail") && page.contains("same phone"));
    assert!(!page.contains(&format!("id=\"duplicate-{stranger}\"")));
    // Suggestions go both ways.
    assert!(
        supervisor
            .page(&format!("/customers/{twin}/identities"))
            .await
            .contains(&format!("id=\"duplicate-{ada}\""))
    );

    let response = supervisor
        .post_form(&format!("/customers/{twin}/duplicates/{ada}/dismiss"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        supervisor
            .page(&location(&response))
            .await
            .contains("not suggested as duplicates again")
    );
    let page = supervisor
        .page(&format!("/customers/{ada}/identities"))
        .await;
    assert!(
        !page.contains(&format!("id=\"duplicate-{twin}\"")),
        "dismissed for good"
    );
    assert!(
        page.contains(&format!("id=\"duplicate-{phone}\"")),
        "others stay"
    );
}

#[tokio::test]
async fn a_customer_is_never_its_own_duplicate() {
    let app = spawn_app().await;
    let ada = app.create_customer(&[("name", "Ada"), ("email", "ada@example.com")]);
    let supervisor = app.supervisor().await;
    let page = supervisor
        .page(&format!("/customers/{ada}/identities"))
        .await;
    assert!(page.contains("No other customer shares"));
    let response = supervisor
        .post_form(&format!("/customers/{ada}/duplicates/{ada}/dismiss"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = supervisor
        .post_form(
            &format!("/customers/{ada}/duplicates/C9999999/dismiss"),
            &[],
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "an unknown customer"
    );
}

#[tokio::test]
async fn the_duplicates_list_shows_pairs_strongest_first_with_why_and_drops_dismissed_ones() {
    let app = spawn_app().await;
    let token = app.api_token("gateway");
    // An e-mail and a phone in common: the strongest.
    let ada = app.create_customer(&[
        ("name", "Ada"),
        ("email", "ada@example.com"),
        ("phone", "+385912345678"),
    ]);
    let ada2 = app.create_customer(&[
        ("name", "Ada L."),
        ("email", "ADA@example.com"),
        ("phone", "+385912345678"),
    ]);
    // The same name (folded) and city.
    let ivan = app.create_customer(&[("name", "Ivan Horvat"), ("city", "Split")]);
    let ivan2 = app.create_customer(&[("name", "IVAN  horvat"), ("city", "split")]);
    let ivan3 = app.create_customer(&[("name", "Ivan Horvta"), ("city", "Split")]);
    let ana = app.create_customer(&[("name", "Ana Kovač"), ("company", "Podravka")]);
    let ana2 = app.create_customer(&[("name", "Ana Marija Kovac"), ("company", "podravka")]);
    // The same name alone is no suggestion.
    let marko = app.create_customer(&[("name", "Marko Marić"), ("city", "Rijeka")]);
    let marko2 = app.create_customer(&[("name", "Marko Marić"), ("city", "Osijek")]);
    // A phone one holds as a property and the other as a WhatsApp identity.
    let bea = app.create_customer(&[("name", "Bea"), ("phone", "+385981112222")]);
    let bea2 = app.create_customer(&[("name", "Beatrice")]);
    app.with_db(|conn| {
        let bea2_id = clientele::db::customers::find_customer_by_public_id(conn, &bea2)
            .expect("query")
            .expect("bea2")
            .id;
        clientele::services::conversations::add_identity(
            conn,
            bea2_id,
            "whatsapp",
            "+385981112222",
            &clientele::domain::customer::Actor::System,
            &clientele::domain::scope::Scope::Everything,
        )
        .expect("identity added");
    });
    app.work_out_duplicates();

    let supervisor = app.supervisor().await;
    let page = supervisor.page("/customers/duplicates").await;
    let strong = page
        .find(&format!("pair-{ada}-{ada2}"))
        .expect("the e-mail and phone pair");
    let name = page
        .find(&format!("pair-{ivan}-{ivan2}"))
        .expect("the name and city pair");
    assert!(strong < name, "strongest first");
    assert!(page.contains("same e-mail, same phone"));
    assert!(page.contains("similar name and same city"));
    assert!(
        page.contains(&format!("pair-{ivan}-{ivan3}")),
        "a name a typo apart, with the same city"
    );
    assert!(
        page.contains(&format!("pair-{ana}-{ana2}")),
        "one name within the other, with the same company"
    );
    assert!(
        page.contains(&format!("pair-{bea}-{bea2}")),
        "a phone held as an identity"
    );
    assert!(
        !page.contains(&format!("pair-{marko}-{marko2}")),
        "a name alone is not enough"
    );
    assert!(page.contains(&format!("/customers/{ada}/merge/{ada2}")));

    supervisor
        .post_form(
            &format!("/customers/{ivan2}/duplicates/{ivan}/dismiss"),
            &[],
        )
        .await;
    let page = supervisor.page("/customers/duplicates").await;
    assert!(!page.contains(&format!("pair-{ivan}-{ivan2}")), "dismissed");
    // A change that ends the likeness ends the pair.
    let response = app
        .api(
            reqwest::Method::PATCH,
            &format!("/api/v1/customers/{ada2}"),
            &token,
            Some(serde_json::json!({"properties": {"email": "other@example.com", "phone": null}})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    app.work_out_duplicates();
    assert!(
        !supervisor
            .page("/customers/duplicates")
            .await
            .contains(&format!("pair-{ada}-{ada2}"))
    );
}

#[tokio::test]
async fn the_duplicates_list_pages_by_keyset() {
    let app = spawn_app().await;
    for n in 0..30 {
        let email = format!("twin{n}@example.com");
        app.create_customer(&[("name", "One"), ("email", &email)]);
        app.create_customer(&[("name", "Two"), ("email", &email)]);
    }
    app.work_out_duplicates();
    let supervisor = app.supervisor().await;
    let first = supervisor.page("/customers/duplicates").await;
    assert_eq!(first.matches("id=\"pair-").count(), 25);
    let next = first
        .split("href=\"/customers/duplicates?after=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a next page");
    let second = supervisor
        .page(&format!("/customers/duplicates?after={next}"))
        .await;
    assert_eq!(second.matches("id=\"pair-").count(), 5);
    assert!(!second.contains("?after="), "the last page");
    assert_eq!(
        supervisor
            .get("/customers/duplicates?after=nonsense")
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn staff_find_any_customer_to_merge_by_name_id_email_phone_or_channel_id() {
    let app = spawn_app().await;
    let ada = app.create_customer(&[("name", "Ada Lovelace")]);
    let other = app.create_customer(&[
        ("name", "Augusta King"),
        ("email", "augusta@example.com"),
        ("phone", "+385913334444"),
    ]);
    let wechat = app.create_customer(&[("name", "Wei")]);
    app.add_identity(&wechat, "wechat", "wx-openid-77");
    let supervisor = app.supervisor().await;
    for (typed, wanted) in [
        ("augsta king", &other),
        (other.as_str(), &other),
        ("AUGUSTA@example.com", &other),
        ("+385 91 333 4444", &other),
        ("wx-openid-77", &wechat),
    ] {
        let page = supervisor
            .page(&format!(
                "/customers/{ada}/identities?find={}",
                typed
                    .replace('+', "%2B")
                    .replace(' ', "+")
                    .replace('@', "%40")
            ))
            .await;
        assert!(
            page.contains(&format!("id=\"found-{wanted}\"")),
            "{typed} finds {wanted}"
        );
        assert!(page.contains(&format!("/customers/{ada}/merge/{wanted}")));
    }
    let page = supervisor
        .page(&format!("/customers/{ada}/identities?find=nobody+at+all"))
        .await;
    assert!(page.contains("id=\"find-empty\""));
}
