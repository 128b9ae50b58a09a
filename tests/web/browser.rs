//! Browser tests in headless Chromium, driven through chromedriver on the loopback.

use clientele::domain::Role;
use thirtyfour::prelude::*;

use crate::chrome::Chrome;
use crate::helpers::{PASSWORD, spawn_app};

#[tokio::test]
async fn a_supervisor_creates_an_agent_who_then_sees_only_agent_navigation() {
    let app = spawn_app().await;
    app.create_user("sam.supervisor", Role::Supervisor);

    let Some(supervisor) = Chrome::start().await else {
        return;
    };
    supervisor
        .sign_in(&app.address, "sam.supervisor", PASSWORD)
        .await;
    supervisor.wait_for_text("Sign out").await;
    supervisor.click("nav a[href='/settings/users']").await;
    supervisor.click("a[href='/settings/users/new']").await;
    supervisor.fill("username", "lea.novak").await;
    supervisor.fill("display_name", "Lea Novak").await;
    supervisor.fill("time_zone", "Europe/Zagreb").await;
    supervisor.fill("password", "first-day-pass").await;
    supervisor
        .click("form[action='/settings/users'] button[type=submit]")
        .await;
    let list = supervisor.wait_for_text("Created lea.novak (Agent).").await;
    assert!(list.contains("Lea Novak"));

    // A second, independent browser session for the agent.
    let Some(agent) = Chrome::start().await else {
        return;
    };
    agent
        .sign_in(&app.address, "lea.novak", "first-day-pass")
        .await;
    agent.wait_for_text("Choose your own password").await;
    agent.fill("current_password", "first-day-pass").await;
    agent.fill("new_password", "lea's own passphrase").await;
    agent.fill("confirm_password", "lea's own passphrase").await;
    agent
        .click("form[action='/account/password'] button[type=submit]")
        .await;
    agent.wait_for_text("Your password was changed.").await;

    let nav = agent
        .driver
        .find_all(By::Css("nav.mainnav a"))
        .await
        .expect("navigation links");
    let mut labels = Vec::new();
    for link in nav {
        labels.push(link.text().await.expect("link text"));
    }
    assert_eq!(
        labels,
        vec!["Conversations".to_owned()],
        "an agent sees the agent navigation only"
    );

    // And a crafted visit to a supervisor page is refused.
    agent
        .driver
        .goto(format!("{}/settings/users", app.address))
        .await
        .expect("navigate");
    agent.wait_for_text("Not allowed").await;

    agent.quit().await;
    supervisor.quit().await;
}

#[tokio::test]
async fn a_supervisor_adds_a_loyalty_tier_sets_it_and_reverts_it_from_history() {
    let app = spawn_app().await;
    app.create_user("sam.supervisor", Role::Supervisor);
    let customer = app.create_customer(&[("name", "Ada Lovelace")]);

    let Some(chrome) = Chrome::start().await else {
        return;
    };
    chrome
        .sign_in(&app.address, "sam.supervisor", PASSWORD)
        .await;
    chrome.wait_for_text("Sign out").await;
    chrome.click("nav a[href='/settings/properties']").await;
    chrome.click("a[href='/settings/properties/new']").await;
    // The technical name is suggested from the label.
    chrome.fill("label", "Loyalty tier").await;
    let key = chrome
        .driver
        .find(By::Id("key"))
        .await
        .expect("key")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(key.as_deref(), Some("loyalty_tier"));
    let select = chrome
        .driver
        .find(By::Id("value_type"))
        .await
        .expect("type select");
    thirtyfour::components::SelectElement::new(&select)
        .await
        .expect("select")
        .select_by_value("single_choice")
        .await
        .expect("choose single choice");
    chrome.fill("choices", "Bronze\nSilver\nGold").await;
    let agents = chrome
        .driver
        .find(By::Id("agent_access"))
        .await
        .expect("agent access");
    thirtyfour::components::SelectElement::new(&agents)
        .await
        .expect("select")
        .select_by_value("edit")
        .await
        .expect("editable by agents");
    chrome
        .click("form[action='/settings/properties'] button[type=submit]")
        .await;
    chrome
        .wait_for_text("Created the property Loyalty tier.")
        .await;

    chrome
        .driver
        .goto(format!("{}/customers/{customer}/profile", app.address))
        .await
        .expect("open the profile");
    let tier = chrome
        .driver
        .query(By::Id("p_loyalty_tier"))
        .first()
        .await
        .expect("tier field");
    thirtyfour::components::SelectElement::new(&tier)
        .await
        .expect("select")
        .select_by_value("Gold")
        .await
        .expect("choose Gold");
    chrome
        .click("form[action$='/profile'] button[type=submit]")
        .await;
    chrome.wait_for_text("Saved 1 change.").await;

    chrome.click("nav.tabs a[href$='/history']").await;
    let history = chrome.wait_for_text("Changed Loyalty tier").await;
    assert!(history.contains(">Gold<"));
    chrome
        .click("form[action$='/revert'] button[type=submit]")
        .await;
    chrome
        .driver
        .accept_alert()
        .await
        .expect("confirm the revert");
    chrome.wait_for_text("The change was reverted.").await;
    assert_eq!(app.value_of(&customer, "loyalty_tier"), None);

    chrome.quit().await;
}

#[tokio::test]
async fn the_supervisor_configures_the_card_and_an_agent_edits_on_it_and_links_a_contact() {
    let app = spawn_app().await;
    app.create_user("sam.supervisor", Role::Supervisor);
    app.create_user("ana.agent", Role::Agent);
    app.create_property(
        "loyalty_tier",
        "single_choice",
        &["Bronze", "Silver", "Gold"],
        "edit",
    );
    let token = app.api_token("gateway");
    let customer = app.create_customer(&[
        ("name", "Ada Lovelace"),
        ("phone", "+385912345678"),
        ("company", "Analytical Engines"),
        ("loyalty_tier", "Bronze"),
    ]);
    let known = app
        .inbound(&token, serde_json::json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "Hi"}))
        .await["conversation_id"]
        .as_i64()
        .expect("conversation");
    let unknown = app
        .inbound(&token, serde_json::json!({"channel": "telegram", "external_id": "777", "display_name": "Ada?", "text": "It's me"}))
        .await["conversation_id"]
        .as_i64()
        .expect("conversation");

    // The supervisor: loyalty tier basic and editable, company additional; nothing else.
    let Some(supervisor) = Chrome::start().await else {
        return;
    };
    supervisor
        .sign_in(&app.address, "sam.supervisor", PASSWORD)
        .await;
    supervisor.wait_for_text("Sign out").await;
    supervisor
        .driver
        .goto(format!("{}/settings/card", app.address))
        .await
        .expect("card settings");
    let properties =
        app.with_db(|conn| clientele::db::properties::list_properties(conn).expect("registry"));
    let id_of = |key: &str| {
        properties
            .iter()
            .find(|p| p.key == key)
            .expect("property")
            .id
            .0
    };
    for key in ["name", "gender", "city", "country"] {
        supervisor.click(&format!("#on_{}", id_of(key))).await;
    }
    supervisor
        .click(&format!("#on_{}", id_of("loyalty_tier")))
        .await;
    let choose = |name: String, value: &'static str| {
        let driver = supervisor.driver.clone();
        async move {
            let select = driver.find(By::Name(&name)).await.expect("select");
            thirtyfour::components::SelectElement::new(&select)
                .await
                .expect("select")
                .select_by_value(value)
                .await
                .expect("choose");
        }
    };
    choose(format!("section_{}", id_of("loyalty_tier")), "basic").await;
    choose(format!("mode_{}", id_of("loyalty_tier")), "edit").await;
    supervisor.click(&format!("#on_{}", id_of("company"))).await;
    choose(format!("section_{}", id_of("company")), "additional").await;
    supervisor.click(".form-footer button[value=save]").await;
    supervisor.wait_for_text("The context card is saved").await;
    supervisor.quit().await;

    // The agent sees exactly that, edits the tier in place and opens See more.
    let Some(agent) = Chrome::start().await else {
        return;
    };
    agent.sign_in(&app.address, "ana.agent", PASSWORD).await;
    agent.wait_for_text("Sign out").await;
    agent
        .driver
        .goto(format!("{}/conversations/{known}", app.address))
        .await
        .expect("conversation");
    let basic = agent
        .driver
        .query(By::Css("#card-basic .field"))
        .all_from_selector()
        .await
        .expect("basic fields");
    assert_eq!(basic.len(), 1, "one basic attribute");
    let company = agent
        .driver
        .find(By::Css("#card-additional"))
        .await
        .expect("additional");
    assert!(
        !company.is_displayed().await.expect("visibility"),
        "additional attributes wait under See more"
    );
    agent.click("#card-more summary").await;
    assert!(company.is_displayed().await.expect("visibility"));
    assert!(
        company
            .text()
            .await
            .expect("text")
            .contains("Analytical Engines")
    );
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
    // A choice on the card saves as soon as it is made.
    agent.wait_for_text("Saved on the customer").await;
    assert_eq!(
        app.value_of(&customer, "loyalty_tier").as_deref(),
        Some("Gold")
    );

    // The unknown contact is linked to the existing customer from the card.
    agent
        .driver
        .goto(format!("{}/conversations/{unknown}", app.address))
        .await
        .expect("conversation");
    agent.wait_for_text("Unknown customer").await;
    agent.fill("link-q", "Lovelace").await;
    agent.click("form[role=search] button").await;
    agent.wait_for_text("Ada Lovelace").await;
    agent.click("#link-results form button").await;
    agent.wait_for_text("Conversation linked to").await;
    assert!(
        agent
            .driver
            .source()
            .await
            .expect("source")
            .contains("id=\"card-name\">Ada Lovelace<")
    );
    agent.quit().await;
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
async fn new_inbound_messages_appear_without_a_reload() {
    let app = spawn_app().await;
    app.create_user("ana.agent", Role::Agent);
    let token = app.api_token("gateway");
    let first = app
        .inbound(&token, serde_json::json!({"channel": "web", "external_id": "visitor-1", "display_name": "Guest", "text": "Hello"}))
        .await;
    let conversation = first["conversation_id"].as_i64().expect("conversation");
    let Some(agent) = Chrome::start().await else {
        return;
    };
    agent.sign_in(&app.address, "ana.agent", PASSWORD).await;
    agent.wait_for_text("Guest").await;
    app.inbound(&token, serde_json::json!({"channel": "telegram", "external_id": "42", "display_name": "Newcomer", "text": "Are you open today?"}))
        .await;
    agent.wait_for_text("Are you open today?").await;

    agent
        .driver
        .goto(format!("{}/conversations/{conversation}", app.address))
        .await
        .expect("conversation");
    agent.wait_for_text("Hello").await;
    app.inbound(
        &token,
        serde_json::json!({"channel": "web", "external_id": "visitor-1", "text": "Still there?"}),
    )
    .await;
    agent.wait_for_text("Still there?").await;
    agent.quit().await;
}

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

#[tokio::test]
async fn an_agent_works_a_conversation_with_the_panel_identities_tags_and_a_comment() {
    let app = spawn_app().await;
    app.create_user("ana.agent", Role::Agent);
    let token = app.api_token("gw");
    app.create_customer(&[("name", "Ada Lovelace"), ("phone", "+385912345678")]);
    app.with_db(|conn| clientele::db::tags::insert_tag(conn, "VIP", "gold"))
        .expect("tag");
    let id = app
        .inbound(
            &token,
            serde_json::json!({"channel": "whatsapp", "external_id": "+385912345678", "text": "Hello"}),
        )
        .await["conversation_id"]
        .as_i64()
        .expect("a conversation");

    let Some(chrome) = Chrome::start().await else {
        return;
    };
    chrome.sign_in(&app.address, "ana.agent", PASSWORD).await;
    chrome.wait_for_text("Sign out").await;
    chrome
        .driver
        .goto(format!("{}/conversations/{id}", app.address))
        .await
        .expect("open the conversation");
    // A reply being written survives switching the panel (it swaps in place).
    chrome.fill("reply-text", "Let me check that for you").await;
    chrome
        .click("nav.panel-tabs a[href$='panel=identities']")
        .await;
    chrome.wait_for_text("Add a destination").await;
    let kept = chrome
        .driver
        .find(By::Id("reply-text"))
        .await
        .expect("the reply box")
        .prop("value")
        .await
        .expect("its value");
    assert_eq!(kept.as_deref(), Some("Let me check that for you"));
    let select = chrome
        .driver
        .find(By::Id("panel-channel"))
        .await
        .expect("channel select");
    thirtyfour::components::SelectElement::new(&select)
        .await
        .expect("select")
        .select_by_value("email")
        .await
        .expect("e-mail");
    chrome.fill("panel-external-id", "Ada@Example.com").await;
    chrome
        .click("form[action$='/identities'] button[type=submit]")
        .await;
    chrome.wait_for_text("ada@example.com").await;

    chrome.click("nav.panel-tabs a[href$='panel=tags']").await;
    chrome.wait_for_text("Add a tag").await;
    chrome
        .click("form[action$='/tags'] button[type=submit]")
        .await;
    chrome.wait_for_text("Tag added.").await;

    chrome
        .click("nav.panel-tabs a[href$='panel=conversations']")
        .await;
    chrome.wait_for_text("Comments are internal").await;
    chrome
        .fill(&format!("comment-{id}"), "Wants the invoice resent")
        .await;
    chrome
        .click("form[action$='/comments'] button[type=submit]")
        .await;
    let page = chrome.wait_for_text("Wants the invoice resent").await;
    assert!(page.contains("Comment added."));

    chrome.quit().await;
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
