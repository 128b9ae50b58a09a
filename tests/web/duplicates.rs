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
