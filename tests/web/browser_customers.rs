//! The Customers page and the supervisor's customer work in Chromium: filters with tag
//! chips, a segment and a bulk change; an import with refused rows; a merge and its undo.

use clientele::domain::Role;
use thirtyfour::prelude::*;

use crate::chrome::Chrome;
use crate::helpers::{PASSWORD, spawn_app};

#[tokio::test]
async fn an_agent_filters_by_tag_and_fuzzy_name_saves_a_segment_and_tags_all_results() {
    use clientele::db::tags;
    let app = spawn_app().await;
    app.create_user("sam.supervisor", Role::Supervisor);
    app.create_user("lea.agent", Role::Agent);
    app.with_db(|conn| {
        tags::insert_tag(conn, "VIP", "#c0352b").expect("tag");
        tags::insert_tag(conn, "Wholesale", "#2456d6").expect("tag");
    });
    let all = app.with_db(|conn| tags::list_tags(conn).expect("tags"));
    let vip = all.iter().find(|t| t.name == "VIP").expect("VIP").id;
    let wholesale = all
        .iter()
        .find(|t| t.name == "Wholesale")
        .expect("Wholesale")
        .id;
    let ana = app.create_customer(&[("name", "Ana Horvat")]);
    let ivan = app.create_customer(&[("name", "Ivan Horvat")]);
    let anna = app.create_customer(&[("name", "Anna Horvath")]);
    let marko = app.create_customer(&[("name", "Marko Babić")]);
    for customer in [&ana, &ivan, &marko] {
        let id = app.customer(customer).id;
        app.with_db(|conn| tags::add_customer_tag(conn, id, wholesale).expect("tagged"));
    }

    // The supervisor opens the Customers page to agents.
    let Some(supervisor) = Chrome::start().await else {
        return;
    };
    supervisor
        .sign_in(&app.address, "sam.supervisor", PASSWORD)
        .await;
    supervisor.wait_for_text("Sign out").await;
    supervisor
        .driver
        .goto(format!("{}/settings/features", app.address))
        .await
        .expect("features");
    supervisor.click("#customers_page_for_agents").await;
    supervisor
        .click("form[action='/settings/features'] button[type=submit]")
        .await;
    supervisor.wait_for_text("Features saved.").await;
    supervisor.quit().await;

    // The agent filters by a tag and a name with a typo.
    let Some(agent) = Chrome::start().await else {
        return;
    };
    agent.sign_in(&app.address, "lea.agent", PASSWORD).await;
    agent.wait_for_text("Sign out").await;
    agent.click("nav.mainnav a[href='/customers']").await;
    agent.wait_for_text("Find customers").await;
    agent.click("details.filter-panel > summary").await;
    // Agents start from the customers they served; these were served by nobody yet.
    agent.click("#whose option[value='all']").await;
    // Tags are chips: typing part of a tag's name and Enter adds it.
    agent.fill("f-tags", "wholes\u{e007}").await;
    agent.wait_for_text("aria-label=\"Remove Wholesale\"").await;
    let chosen = agent
        .driver
        .query(By::Css(format!(
            "#f-tags-select option[value='{wholesale}']"
        )))
        .first()
        .await
        .expect("the hidden select")
        .is_selected()
        .await
        .expect("selected state");
    assert!(chosen, "the chip selects the tag the form sends");
    agent.fill("f-name", "horvt").await;
    agent.click("form[role=search] button[type=submit]").await;
    let page = agent.wait_for_text("2 customers").await;
    assert!(page.contains(&ana) && page.contains(&ivan), "both Horvats");
    assert!(!page.contains(&anna) && !page.contains(&marko));

    // Saves the view as a segment.
    agent.click("details.segments > summary").await;
    agent.fill("segment-name", "Wholesale Horvats").await;
    agent
        .click("form[action='/customers/segments'] button")
        .await;
    agent.wait_for_text("Wholesale Horvats").await;

    // Tags every result in bulk, after a confirmation that states the count.
    agent
        .click(&format!("#bulk-tag option[value='{vip}']"))
        .await;
    agent.click("#scope-all").await;
    agent.click("#bulk-apply").await;
    agent.wait_for_text("for 2 customers").await;
    agent.click("#bulk-confirm").await;
    agent.wait_for_text("Finished.").await;
    for (customer, tagged) in [(&ana, true), (&ivan, true), (&anna, false), (&marko, false)] {
        let id = app.customer(customer).id;
        let names: Vec<String> = app
            .with_db(|conn| tags::list_customer_tags(conn, id).expect("tags"))
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(names.contains(&"VIP".to_owned()), tagged, "{customer}");
    }
    agent.quit().await;
}

#[tokio::test]
async fn a_supervisor_imports_a_file_with_two_bad_rows_and_downloads_them() {
    let app = spawn_app().await;
    app.create_user("sam.supervisor", Role::Supervisor);
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("contacts.csv");
    std::fs::write(
        &file,
        "Full Name;E-mail;Mobile\nAda Lovelace;ada@example.com;+385911111111\nNo Email;not-an-email;\nGrace Hopper;grace@example.com;\nBad Phone;;12\n",
    )
    .expect("file written");

    let Some(chrome) = Chrome::start().await else {
        return;
    };
    chrome
        .sign_in(&app.address, "sam.supervisor", PASSWORD)
        .await;
    chrome.wait_for_text("Sign out").await;
    chrome
        .driver
        .goto(format!("{}/customers/import", app.address))
        .await
        .expect("import page");
    chrome
        .driver
        .query(By::Id("file"))
        .first()
        .await
        .expect("file field")
        .send_keys(file.display().to_string())
        .await
        .expect("file chosen");
    chrome.click("#upload").await;
    chrome.wait_for_text("Match existing customers").await;

    // The dry run: counts and the refused rows, nothing written yet.
    chrome.click("#dry-run-button").await;
    chrome.wait_for_text("Finished.").await;
    chrome.click("#job-import").await;
    let preview = chrome.wait_for_text("would be created").await;
    assert!(
        preview.contains("not-an-email") || preview.contains("E-mail"),
        "{preview}"
    );
    assert!(preview.contains("refused-rows"));
    let count = |app: &crate::helpers::TestApp| {
        use diesel::prelude::*;
        app.with_db(|conn| {
            clientele::db::schema::customers::table
                .count()
                .get_result::<i64>(conn)
                .expect("count")
        })
    };
    assert_eq!(count(&app), 0, "the dry run wrote nothing");

    // The import itself, watched on its progress page.
    chrome.click("#run-button").await;
    let progress = chrome.wait_for_text("Finished.").await;
    assert!(progress.contains("job-refused"), "{progress}");
    assert_eq!(count(&app), 2);

    // The refused rows download, as this browser session gets them.
    let link = chrome
        .driver
        .query(By::Id("job-refused-download"))
        .first()
        .await
        .expect("download link");
    assert!(link.is_displayed().await.expect("visible"));
    let href = link.attr("href").await.expect("href").expect("a link");
    let script = format!(
        "const done = arguments[arguments.length - 1]; fetch('{href}').then(r => r.text()).then(done);"
    );
    let body = chrome
        .driver
        .execute_async(&script, Vec::new())
        .await
        .expect("fetch in the page");
    let text = body.json().as_str().unwrap_or_default().to_owned();
    assert!(
        text.contains("No Email") && text.contains("Bad Phone"),
        "{text}"
    );
    assert!(!text.contains("Ada Lovelace"));
    chrome.quit().await;
}

#[tokio::test]
async fn a_supervisor_merges_a_suggested_pair_follows_the_old_id_and_undoes_the_merge() {
    let app = spawn_app().await;
    app.create_user("sam.supervisor", Role::Supervisor);
    let ada = app.create_customer(&[
        ("name", "Ada Lovelace"),
        ("email", "ada@example.com"),
        ("city", "London"),
    ]);
    let twin = app.create_customer(&[
        ("name", "Ada L."),
        ("email", "ADA@example.com"),
        ("phone", "+385912345678"),
        ("city", "Paris"),
    ]);
    app.work_out_duplicates();

    let Some(chrome) = Chrome::start().await else {
        return;
    };
    chrome
        .sign_in(&app.address, "sam.supervisor", PASSWORD)
        .await;
    chrome.wait_for_text("Sign out").await;
    chrome
        .driver
        .goto(format!("{}/customers", app.address))
        .await
        .expect("open the Customers page");
    chrome.click("a[href='/customers/duplicates']").await;
    chrome.wait_for_text("same e-mail").await;
    chrome
        .click(&format!("a[href='/customers/{ada}/merge/{twin}']"))
        .await;
    chrome.wait_for_text("Merge Ada L. into Ada Lovelace").await;
    // The city from the duplicate, the name from the survivor (the default).
    chrome
        .click("input[name='keep.city'][value='duplicate']")
        .await;
    chrome.click("#merge-submit").await;
    chrome
        .wait_for_text(&format!("Merged {twin} into this customer"))
        .await;
    assert_eq!(app.value_of(&ada, "city").as_deref(), Some("Paris"));
    assert_eq!(app.value_of(&ada, "name").as_deref(), Some("Ada Lovelace"));

    // The old ID leads to the survivor.
    chrome
        .driver
        .goto(format!("{}/customers/{twin}/profile", app.address))
        .await
        .expect("open the old ID");
    chrome.wait_for_text("Ada Lovelace").await;
    let url = chrome.driver.current_url().await.expect("url");
    assert!(
        url.path().ends_with(&format!("/customers/{ada}/profile")),
        "{url}"
    );

    chrome.click("nav.tabs a[href$='/history']").await;
    chrome.wait_for_text("City: took the duplicate").await;
    chrome
        .click("form[action$='/undo'] button[type=submit]")
        .await;
    chrome
        .driver
        .accept_alert()
        .await
        .expect("confirm the undo");
    chrome.wait_for_text("is back as it was").await;
    assert_eq!(app.value_of(&ada, "city").as_deref(), Some("London"));
    assert_eq!(app.value_of(&twin, "city").as_deref(), Some("Paris"));

    chrome.quit().await;
}
