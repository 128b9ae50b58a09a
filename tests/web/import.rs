//! CSV import: header mapping, dry run, bad rows, idempotence, resumption, round trip.

use diesel::prelude::*;
use reqwest::StatusCode;

use clientele::db::schema::{customer_events, customers, imports, jobs};

use crate::helpers::{Browser, TestApp, location, spawn_app, spawn_app_with};

/// Name, e-mail, phone and city of a customer.
type Contact = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Uploads a file; returns the import id.
pub async fn upload(browser: &Browser, name: &str, bytes: &[u8]) -> i64 {
    let response = browser
        .upload("/customers/import", name, bytes.to_vec())
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "upload accepted");
    location(&response)
        .trim_start_matches("/customers/import/")
        .parse()
        .expect("import id")
}

/// The mapping the page proposes, as submitted back unchanged, plus every match key.
fn mapping_form(app: &TestApp, import: i64) -> Vec<(String, String)> {
    let mapping: String = app.with_db(|conn| {
        imports::table
            .find(import)
            .select(imports::mapping)
            .first(conn)
            .expect("import")
    });
    let targets: Vec<String> = serde_json::from_str(&mapping).expect("json");
    let mut form: Vec<(String, String)> = targets
        .into_iter()
        .enumerate()
        .map(|(i, t)| (format!("col_{i}"), t))
        .collect();
    for key in ["customer_id", "email", "phone"] {
        form.push(("match".to_owned(), key.to_owned()));
    }
    form
}

/// Starts a dry run or a run and waits for its job; returns (processed, created, changed, refused).
pub async fn run_job(
    app: &TestApp,
    browser: &Browser,
    import: i64,
    what: &str,
    extra: &[(&str, &str)],
) -> (i64, i64, i64, i64, i64) {
    let form = mapping_form(app, import);
    let mut fields: Vec<(&str, &str)> =
        form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    fields.extend_from_slice(extra);
    let response = browser
        .post_form(&format!("/customers/import/{import}/{what}"), &fields)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let job: i64 = location(&response)
        .trim_start_matches("/jobs/")
        .parse()
        .expect("job id");
    for _ in 0..400 {
        let (status, processed, created, changed, refused): (String, i64, i64, i64, i64) = app
            .with_db(|conn| {
                jobs::table
                    .find(job)
                    .select((
                        jobs::status,
                        jobs::processed,
                        jobs::created_count,
                        jobs::changed,
                        jobs::refused_count,
                    ))
                    .first(conn)
                    .expect("job")
            });
        assert_ne!(status, "failed");
        if status == "done" {
            return (job, processed, created, changed, refused);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("job {job} did not finish");
}

fn customer_count(app: &TestApp) -> i64 {
    app.with_db(|conn| customers::table.count().get_result(conn).expect("count"))
}

#[tokio::test]
async fn headers_are_mapped_by_label_key_and_common_names() {
    let app = spawn_app().await;
    app.create_property("shoe_size", "number", &[], "edit");
    let supervisor = app.supervisor().await;
    let csv = "\u{feff}Full Name;E-mail Address;Mobile;Organisation;Labels;WhatsApp;Customer ID;shoe size label;Favourite colour\n";
    let import = upload(&supervisor, "contacts.csv", csv.as_bytes()).await;
    let form = mapping_form(&app, import);
    let targets: Vec<&str> = form
        .iter()
        .filter(|(k, _)| k.starts_with("col_"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        targets,
        vec![
            "property:name",
            "property:email",
            "property:phone",
            "property:company",
            "tags",
            "identity:whatsapp",
            "customer_id",
            "property:shoe_size",
            ""
        ]
    );
    let page = supervisor
        .page(&format!("/customers/import/{import}"))
        .await;
    assert!(page.contains("Favourite colour"));
    // Agents cannot import.
    let agent = app.agent().await;
    assert_eq!(
        agent.get("/customers/import").await.status(),
        StatusCode::FORBIDDEN
    );
    // A file without a readable header is refused at the field.
    let response = supervisor
        .upload("/customers/import", "empty.csv", b",,\n".to_vec())
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_dry_run_counts_and_explains_every_bad_row_and_writes_nothing() {
    let app = spawn_app().await;
    app.create_property("tier", "single_choice", &["Gold", "Silver"], "edit");
    app.create_property("renewal", "date", &[], "edit");
    app.with_db(|conn| clientele::db::tags::insert_tag(conn, "VIP", "#c0352b").unwrap());
    let existing = app.create_customer(&[("name", "Old Name"), ("email", "known@example.com")]);
    let supervisor = app.supervisor().await;
    let mut csv = b"name,email,phone,tier,renewal,tags\n".to_vec();
    for line in [
        "New Person,new@example.com,+385911111111,Gold,2026-01-31,VIP",
        "Known Person,known@example.com,,,,",
        "Bad Email,not-an-email,,,,",
        "Bad Phone,,12,,,",
        "Bad Chöice,,,Platinum,,",
        "Bad Date,,,,2026-02-30,",
        "Unknown Tag,,,,,Nope",
        "Twice,new@example.com,,,,",
        "Short Row,short@example.com",
    ] {
        csv.extend_from_slice(line.as_bytes());
        csv.push(b'\n');
    }
    csv.extend_from_slice(b"Bad \xff Bytes,bytes@example.com,,,,\n");
    let before = customer_count(&app);
    let import = upload(&supervisor, "people.csv", &csv).await;
    let (job, processed, created, changed, refused) =
        run_job(&app, &supervisor, import, "dry-run", &[]).await;
    assert_eq!((processed, created, changed, refused), (10, 1, 1, 8));
    assert_eq!(customer_count(&app), before, "a dry run writes nothing");
    let page = supervisor.page(&format!("/jobs/{job}")).await;
    assert!(
        page.contains("<dt>Would create</dt>") && !page.contains("<dt>Created</dt>"),
        "the dry run's page says what the import would do"
    );
    assert_eq!(app.customer(&existing).name.as_deref(), Some("Old Name"));

    let refusals: Vec<(i64, String, String)> = app.with_db(|conn| {
        use clientele::db::schema::import_refusals as r;
        r::table
            .filter(r::job_id.eq(job))
            .order(r::row_number.asc())
            .select((r::row_number, r::column_name, r::reason))
            .load(conn)
            .unwrap()
    });
    let reason = |row: i64| {
        refusals
            .iter()
            .find(|r| r.0 == row)
            .map(|r| format!("{} {}", r.1, r.2))
            .unwrap_or_else(|| panic!("row {row} refused: {refusals:?}"))
    };
    assert!(reason(4).starts_with("email"), "{}", reason(4));
    assert!(reason(5).starts_with("phone"), "{}", reason(5));
    assert!(reason(6).contains("Platinum"), "{}", reason(6));
    assert!(reason(7).starts_with("renewal"), "{}", reason(7));
    assert!(reason(8).contains("Nope"), "{}", reason(8));
    assert!(reason(9).contains("row 2"), "duplicate key: {}", reason(9));
    assert!(reason(10).contains("cells"), "{}", reason(10));
    assert!(reason(11).contains("UTF-8"), "{}", reason(11));

    // The preview shows the counts and the first refused rows; the refused rows download.
    let page = supervisor
        .page(&format!("/customers/import/{import}"))
        .await;
    assert!(page.contains("would be created"), "{page}");
    let refused_csv = supervisor.page(&format!("/jobs/{job}/refused.csv")).await;
    assert!(refused_csv.contains("Bad Chöice"));
    assert!(refused_csv.contains("refused_reason"));
    assert!(!refused_csv.contains("New Person"));

    // With "create missing tags", the unknown tag no longer refuses its row.
    let (_, _, created, _, refused) = run_job(
        &app,
        &supervisor,
        import,
        "dry-run",
        &[("create_tags", "on")],
    )
    .await;
    assert_eq!((created, refused), (2, 7));
}

#[tokio::test]
async fn an_import_names_itself_in_history_and_a_second_run_creates_nothing() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let csv = "name;email;whatsapp\nAda Lovelace;ada@example.com;+385911111111\nGrace Hopper;grace@example.com;\n";
    let import = upload(&supervisor, "first.csv", csv.as_bytes()).await;
    let (_, processed, created, _, refused) = run_job(&app, &supervisor, import, "run", &[]).await;
    assert_eq!((processed, created, refused), (2, 2, 0));
    let ada: String = app.with_db(|conn| {
        customers::table
            .filter(customers::email.eq("ada@example.com"))
            .select(customers::public_id)
            .first(conn)
            .unwrap()
    });
    let id = app.customer(&ada).id;
    let authors: Vec<String> = app.with_db(|conn| {
        customer_events::table
            .filter(customer_events::customer_id.eq(id))
            .select(customer_events::actor_name)
            .load(conn)
            .unwrap()
    });
    assert!(
        authors
            .iter()
            .all(|a| a.contains("import #") && a.contains("first.csv")),
        "{authors:?}"
    );
    let identities =
        app.with_db(|conn| clientele::db::identities::list_customer_identities(conn, id).unwrap());
    assert_eq!(identities.len(), 1);

    let again = upload(&supervisor, "first.csv", csv.as_bytes()).await;
    let (_, _, created, changed, refused) = run_job(&app, &supervisor, again, "run", &[]).await;
    assert_eq!(
        (created, changed, refused),
        (0, 0, 0),
        "nothing new the second time"
    );
    assert_eq!(customer_count(&app), 2);
}

#[tokio::test]
async fn an_interrupted_import_resumes_after_its_last_committed_row() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let header = "name,email\n";
    let first = "First Row,first@example.com\n";
    let csv =
        format!("{header}{first}Second Row,second@example.com\nThird Row,third@example.com\n");
    let import = upload(&supervisor, "resume.csv", csv.as_bytes()).await;
    let owner = app.with_db(|conn| {
        imports::table
            .find(import)
            .select(imports::created_by)
            .first::<Option<i64>>(conn)
            .unwrap()
            .unwrap()
    });
    // As a crash would leave it: running, the first row committed.
    let params = serde_json::json!({"import_id": import, "dry_run": false, "user_id": owner, "user_name": "Sam"});
    let now = clientele::db::now();
    app.with_db(|conn| {
        diesel::insert_into(jobs::table)
            .values((
                jobs::kind.eq("import"),
                jobs::status.eq("running"),
                jobs::label.eq("resume"),
                jobs::params.eq(params.to_string()),
                jobs::total.eq(3_i64),
                jobs::processed.eq(1_i64),
                jobs::created_count.eq(1_i64),
                jobs::cursor.eq((header.len() + first.len()) as i64),
                jobs::created_by_name.eq("Sam"),
                jobs::created_at.eq(now),
                jobs::started_at.eq(now),
                jobs::updated_at.eq(now),
            ))
            .execute(conn)
            .unwrap()
    });
    for _ in 0..200 {
        let done: i64 = app.with_db(|conn| {
            jobs::table
                .filter(jobs::status.eq("done"))
                .count()
                .get_result(conn)
                .unwrap()
        });
        if done == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let emails: Vec<Option<String>> = app.with_db(|conn| {
        customers::table
            .order(customers::id.asc())
            .select(customers::email)
            .load(conn)
            .unwrap()
    });
    assert_eq!(
        emails,
        vec![
            Some("second@example.com".to_owned()),
            Some("third@example.com".to_owned())
        ],
        "the committed row is not redone"
    );
}

#[tokio::test]
async fn an_export_imported_into_an_empty_installation_recreates_the_customers() {
    let source = spawn_app().await;
    source.create_property("tier", "single_choice", &["Gold", "Silver"], "edit");
    source.with_db(|conn| clientele::db::tags::insert_tag(conn, "VIP", "#c0352b").unwrap());
    let vip = source.with_db(|conn| clientele::db::tags::list_tags(conn).unwrap()[0].id);
    let ada = source.create_customer(&[
        ("name", "Ada Lovelace"),
        ("email", "ada@example.com"),
        ("phone", "+385911111111"),
        ("tier", "Gold"),
        ("city", "=Zagreb"),
    ]);
    source.create_customer(&[("name", "Grace Hopper"), ("email", "grace@example.com")]);
    let ada_id = source.customer(&ada).id;
    source.with_db(|conn| clientele::db::tags::add_customer_tag(conn, ada_id, vip).unwrap());
    // Two identities: the rows written together queue Ada's duplicate check once per
    // identity, which PostgreSQL refused in one statement (and the rows then went one by
    // one, each new customer taking an id the failed statement had used up).
    for (channel, external) in [("whatsapp", "+385911111111"), ("telegram", "123456789")] {
        source
            .with_db(|conn| {
                clientele::services::conversations::add_identity(
                    conn,
                    ada_id,
                    channel,
                    external,
                    &clientele::domain::customer::Actor::System,
                    &clientele::domain::scope::Scope::Everything,
                )
            })
            .expect("identity added");
    }
    let exporter = source.supervisor().await;
    let export = exporter
        .get("/customers/export.csv?period=all")
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();

    let target = spawn_app().await;
    target.create_property("tier", "single_choice", &["Gold", "Silver"], "edit");
    target.with_db(|conn| clientele::db::tags::insert_tag(conn, "VIP", "#c0352b").unwrap());
    let importer = target.supervisor().await;
    let import = upload(&importer, "export.csv", &export).await;
    let (_, processed, created, _, refused) = run_job(&target, &importer, import, "run", &[]).await;
    assert_eq!((processed, created, refused), (2, 2, 0));
    let ids: Vec<i64> = target.with_db(|conn| {
        customers::table
            .order(customers::id)
            .select(customers::id)
            .load(conn)
            .unwrap()
    });
    assert_eq!(ids, vec![1, 2], "written together, in one statement");
    let summary = |app: &TestApp| {
        let mut rows: Vec<Contact> = app.with_db(|conn| {
            customers::table
                .select((
                    customers::name,
                    customers::email,
                    customers::phone,
                    customers::city,
                ))
                .load(conn)
                .unwrap()
        });
        rows.sort();
        rows
    };
    assert_eq!(summary(&source), summary(&target));
    let imported: String = target.with_db(|conn| {
        customers::table
            .filter(customers::email.eq("ada@example.com"))
            .select(customers::public_id)
            .first(conn)
            .unwrap()
    });
    assert_eq!(target.value_of(&imported, "tier").as_deref(), Some("Gold"));
    let id = target.customer(&imported).id;
    let tags = target.with_db(|conn| clientele::db::tags::list_customer_tags(conn, id).unwrap());
    assert_eq!(tags.len(), 1);
}

/// (action, customer version, actor) of a customer's History, oldest first.
fn history(app: &TestApp, public_id: &str) -> Vec<(String, i64, String)> {
    let id = app.customer(public_id).id;
    app.with_db(|conn| {
        customer_events::table
            .filter(customer_events::customer_id.eq(id))
            .order(customer_events::id.asc())
            .select((
                customer_events::action,
                customer_events::customer_version,
                customer_events::actor_name,
            ))
            .load(conn)
            .expect("history")
    })
}

/// The public ID of the customer with this e-mail.
pub fn public_id_of(app: &TestApp, email: &str) -> String {
    app.with_db(|conn| {
        customers::table
            .filter(customers::email.eq(email))
            .select(customers::public_id)
            .first(conn)
            .unwrap_or_else(|_| panic!("{email} imported"))
    })
}

#[tokio::test]
async fn new_rows_written_together_keep_file_order_around_matches_and_known_identities() {
    use clientele::db::schema::{customer_tags, tags};
    use clientele::domain::customer::Actor;
    let app = spawn_app().await;
    app.with_db(|conn| clientele::db::tags::insert_tag(conn, "VIP", "#c0352b").unwrap());
    let ann = app.create_customer(&[("name", "Ann Old"), ("email", "ann@example.com")]);
    let bob = app.create_customer(&[("name", "Bob"), ("email", "bob@example.com")]);
    app.with_db(|conn| {
        let id = clientele::db::customers::find_customer_by_public_id(conn, &bob)
            .unwrap()
            .unwrap()
            .id;
        clientele::services::conversations::add_identity(
            conn,
            id,
            "telegram",
            "555",
            &Actor::System,
            &clientele::domain::scope::Scope::Everything,
        )
        .unwrap();
        // Known from a conversation, linked to nobody yet.
        clientele::db::identities::upsert_identity(conn, "instagram", "ig.free", None).unwrap();
    });
    let supervisor = app.supervisor().await;
    let csv = format!(
        "customer_id,name,email,tags,identities\n\
         ,New One,one@example.com,VIP;Fresh,instagram:ig.one\n\
         {ann},Ann New,,,\n\
         ,New Two,two@example.com,fresh,instagram:ig.free\n\
         ,New Three,three@example.com,,telegram:555\n\
         ,New Four,four@example.com,,instagram:ig.four\n\
         ,New Five,five@example.com,,instagram:@IG.four\n\
         ,,bob@example.com,,telegram:555\n"
    );
    let import = upload(&supervisor, "mixed.csv", csv.as_bytes()).await;
    let (job, processed, created, changed, refused) =
        run_job(&app, &supervisor, import, "run", &[("create_tags", "on")]).await;
    assert_eq!((processed, created, changed, refused), (7, 3, 1, 2));
    assert_eq!(app.customer(&ann).name.as_deref(), Some("Ann New"));

    let reasons: Vec<(i64, String, String)> = app.with_db(|conn| {
        use clientele::db::schema::import_refusals as r;
        r::table
            .filter(r::job_id.eq(job))
            .order(r::row_number.asc())
            .select((r::row_number, r::column_name, r::reason))
            .load(conn)
            .unwrap()
    });
    let four = public_id_of(&app, "four@example.com");
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert_eq!((reasons[0].0, reasons[0].1.as_str()), (5, "identities"));
    assert!(reasons[0].2.contains(&bob), "{reasons:?}");
    assert_eq!(reasons[1].0, 7);
    assert!(
        reasons[1].2.contains(&four),
        "the second new customer with one identity names the first: {reasons:?}"
    );

    // Created in file order, each with its History, version, sort key and search terms.
    let one = public_id_of(&app, "one@example.com");
    let two = public_id_of(&app, "two@example.com");
    assert!(one < two && two < four, "{one} {two} {four}");
    let entries = history(&app, &one);
    let actions: Vec<&str> = entries.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "created",
            "property_changed",
            "property_changed",
            "tag_added",
            "tag_added",
            "identity_linked"
        ]
    );
    assert!(
        entries
            .iter()
            .all(|(_, _, actor)| actor.contains("mixed.csv"))
    );
    assert_eq!(entries[0].1, 1);
    assert!(entries[1..].iter().all(|(_, version, _)| *version == 2));
    let customer = app.customer(&one);
    assert_eq!(
        (customer.version, customer.sort_name.as_str()),
        (2, "new one")
    );
    let found = supervisor
        .page("/customers?period=all&name=new%20one")
        .await;
    assert!(
        found.contains(&one),
        "the search index knows the new customer"
    );

    // The identity known from a conversation is now the new customer's.
    let free = app.with_db(|conn| {
        clientele::db::identities::find_identity(conn, "instagram", "ig.free")
            .unwrap()
            .unwrap()
    });
    assert_eq!(free.customer_id, Some(app.customer(&two).id));

    // One "Fresh" tag, and every tag's counter equals its holders.
    let counts: Vec<(String, i64, i64)> = app.with_db(|conn| {
        let all: Vec<(i64, String, i64)> = tags::table
            .select((tags::id, tags::name, tags::customers_count))
            .load(conn)
            .unwrap();
        all.into_iter()
            .map(|(id, name, counter)| {
                let held: i64 = customer_tags::table
                    .filter(customer_tags::tag_id.eq(id))
                    .count()
                    .get_result(conn)
                    .unwrap();
                (name, counter, held)
            })
            .collect()
    });
    assert_eq!(counts.len(), 2, "{counts:?}");
    assert!(
        counts.iter().all(|(_, counter, held)| counter == held),
        "{counts:?}"
    );
    assert!(counts.contains(&("Fresh".to_owned(), 2, 2)), "{counts:?}");
}

#[tokio::test]
async fn a_row_sees_what_the_rows_before_it_in_the_same_batch_changed() {
    let app = spawn_app().await;
    let ann = app.create_customer(&[("name", "Ann"), ("email", "old@example.com")]);
    let cy = app.create_customer(&[("name", "Cy"), ("email", "cy@example.com")]);
    let supervisor = app.supervisor().await;
    // Row 1 moves Ann's e-mail: row 2's old address matches nobody any more. Rows 3 and 4
    // reach Cy by ID then by e-mail: row 4 puts back the name row 3 changed.
    let csv = format!(
        "customer_id,email,name\n\
         {ann},new@example.com,\n\
         ,old@example.com,Someone Else\n\
         {cy},,Cyrus\n\
         ,cy@example.com,Cy\n"
    );
    let import = upload(&supervisor, "moves.csv", csv.as_bytes()).await;
    let (_, processed, created, changed, refused) =
        run_job(&app, &supervisor, import, "run", &[]).await;
    assert_eq!((processed, created, changed, refused), (4, 1, 3, 0));
    let ann = app.customer(&ann);
    assert_eq!(
        (ann.name.as_deref(), ann.email.as_deref()),
        (Some("Ann"), Some("new@example.com"))
    );
    let someone = public_id_of(&app, "old@example.com");
    assert_eq!(app.customer(&someone).name.as_deref(), Some("Someone Else"));
    assert_eq!(app.customer(&cy).name.as_deref(), Some("Cy"));
}

#[tokio::test]
async fn old_files_are_removed_unless_a_job_reads_them_and_their_import_asks_for_a_new_upload() {
    use clientele::services::import::remove_old_files;

    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let csv = b"name,email\nAna Old,ana@example.com\n";
    let old = upload(&supervisor, "old.csv", csv).await;
    let busy = upload(&supervisor, "busy.csv", csv).await;
    let recent = upload(&supervisor, "recent.csv", csv).await;
    let stored = |id: i64| -> std::path::PathBuf {
        app.with_db(|conn| {
            imports::table
                .find(id)
                .select(imports::stored_path)
                .first::<String>(conn)
                .expect("import")
        })
        .into()
    };
    let eight_days_ago = clientele::db::now() - chrono::TimeDelta::days(8);
    app.with_db(|conn| {
        diesel::update(imports::table.filter(imports::id.eq_any([old, busy])))
            .set(imports::created_at.eq(eight_days_ago))
            .execute(conn)
            .expect("backdated")
    });

    let removed = app.with_db(|conn| {
        // A job reads the busy import meanwhile, claimed by another instance for now, so
        // the app's worker leaves it alone.
        let job = clientele::db::jobs::insert_job(
            conn,
            clientele::db::jobs::NewJob {
                kind: clientele::db::types::JobKind::Import,
                label: "Import of busy.csv",
                params: "{}",
                total: 1,
                created_by: None,
                created_by_name: "test",
            },
        )
        .expect("job");
        diesel::update(jobs::table.find(job))
            .set((
                jobs::status.eq("running"),
                jobs::claimed_until.eq(clientele::db::now() + chrono::TimeDelta::hours(1)),
            ))
            .execute(conn)
            .expect("claimed");
        clientele::db::imports::set_job(conn, clientele::db::types::ImportId(busy), job, false)
            .expect("set");
        let removed = remove_old_files(conn).expect("swept");
        clientele::db::jobs::finish_job(conn, job, None).expect("job done");
        removed
    });
    assert_eq!(removed, 1);
    assert!(!stored(old).exists(), "the old idle file is removed");
    assert!(stored(busy).exists(), "a file a job reads is kept");
    assert!(stored(recent).exists(), "a recent file is kept");

    // The import stays listed, says why it cannot run, and a crafted POST does not run it.
    let page = supervisor.page(&format!("/customers/import/{old}")).await;
    assert!(page.contains("id=\"file-gone\""), "{page}");
    assert!(!page.contains("dry-run-button"));
    let response = supervisor
        .post_form(&format!("/customers/import/{old}/dry-run"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), format!("/customers/import/{old}"));
    let page = supervisor.page(&format!("/customers/import/{old}")).await;
    assert!(page.contains("Upload it again"), "{page}");
    let dry_job: Option<i64> = app.with_db(|conn| {
        imports::table
            .find(old)
            .select(imports::dry_job_id)
            .first(conn)
            .expect("import")
    });
    assert_eq!(dry_job, None, "no job was queued");

    // The recent upload still runs.
    let (_, processed, created, _, refused) =
        run_job(&app, &supervisor, recent, "dry-run", &[]).await;
    assert_eq!((processed, created, refused), (1, 1, 0));
}

#[tokio::test]
async fn a_file_runs_one_job_at_a_time() {
    // The background worker looks for work once at start, then not for an hour: the
    // queued job stays queued.
    let app = spawn_app_with(|settings| settings.outbox_poll_ms = 3_600_000).await;
    // The worker builds everyone's insights at start, then goes idle.
    crate::insights::wait_ready(&app, "all", None).await;
    let supervisor = app.supervisor().await;
    let import = upload(
        &supervisor,
        "people.csv",
        b"name,email\nAna,ana@example.com\n",
    )
    .await;
    let form = mapping_form(&app, import);
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let first = supervisor
        .post_form(&format!("/customers/import/{import}/dry-run"), &fields)
        .await;
    assert!(
        location(&first).starts_with("/jobs/"),
        "the first is queued"
    );

    // A double submit, or another supervisor, while it has not finished.
    for what in ["dry-run", "run"] {
        let again = supervisor
            .post_form(&format!("/customers/import/{import}/{what}"), &fields)
            .await;
        assert_eq!(again.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&again), format!("/customers/import/{import}"));
    }
    let page = supervisor
        .page(&format!("/customers/import/{import}"))
        .await;
    assert!(page.contains("already running"), "{page}");
    let statuses: Vec<String> =
        app.with_db(|conn| jobs::table.select(jobs::status).load(conn).expect("jobs"));
    assert_eq!(statuses, ["queued"], "one job, not yet run");
}

#[tokio::test]
async fn mapping_shows_sample_values_and_a_refusal_names_every_bad_cell_by_spreadsheet_row() {
    let app = spawn_app().await;
    let supervisor = app.supervisor().await;
    let csv = "name,email,phone,lifecycle,notes\n\
               Ana,ana@example.com,+385911111111,customer,\n\
               Bad Row,not-an-email,12,someday,\n\
               Cy,cy@example.com,,,\n\
               Dee,dee@example.com,,,\n";
    let import = upload(&supervisor, "samples.csv", csv.as_bytes()).await;
    let page = supervisor
        .page(&format!("/customers/import/{import}"))
        .await;
    for sample in ["Ana", "Bad Row", "Cy", "ana@example.com", "not-an-email"] {
        assert!(
            page.contains(&format!("<span class=\"sample\">{sample}</span>")),
            "{sample}"
        );
    }
    assert!(
        !page.contains("<span class=\"sample\">Dee</span>"),
        "three values a column"
    );
    assert!(
        page.contains("(empty in the first rows)"),
        "the empty notes column"
    );

    let (job, _, _, _, refused) = run_job(&app, &supervisor, import, "dry-run", &[]).await;
    assert_eq!(refused, 1);
    let (row, column, reason): (i64, String, String) = app.with_db(|conn| {
        use clientele::db::schema::import_refusals as r;
        r::table
            .filter(r::job_id.eq(job))
            .select((r::row_number, r::column_name, r::reason))
            .first(conn)
            .expect("a refusal")
    });
    assert_eq!(row, 3, "the header is row 1, Ana row 2");
    for named in ["lifecycle", "email", "phone"] {
        assert!(column.contains(named), "{column}");
        assert!(reason.contains(&format!("{named}: ")), "{reason}");
    }
    let page = supervisor
        .page(&format!("/customers/import/{import}"))
        .await;
    assert!(page.contains("the header is row 1"));
}
