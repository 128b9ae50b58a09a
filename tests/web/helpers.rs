//! Starts the real server on port 0 with a fresh database per test, and drives it like a
//! browser would: cookies kept, redirects not followed, forms posted with their CSRF token.

use clientele::config::Settings;
use clientele::db::{self, DatabaseUrl, DbConnection, DbPool};
use clientele::domain::Role;
use clientele::startup::Application;
use diesel::Connection;
use diesel::connection::SimpleConnection;
use reqwest::{Response, StatusCode, redirect};

/// The environment variable naming the PostgreSQL server to test against (a maintenance
/// database URL such as `postgres://postgres@127.0.0.1:5544/postgres`). Unset: SQLite.
pub const PG_ENV: &str = "CLIENTELE_TEST_DATABASE_URL";

/// The password every test account gets.
pub const PASSWORD: &str = "correct horse battery staple";

/// A running server and what the test needs to inspect it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// The server's own pool, for direct checks of the database.
    pub pool: DbPool,
    _database: TestDatabase,
    _dir: tempfile::TempDir,
}

/// A database made for one test. A PostgreSQL one is dropped when the test ends (its
/// connections closed by force), so runs leave no databases behind.
pub struct TestDatabase {
    /// Where it is.
    pub url: DatabaseUrl,
    /// For PostgreSQL: the maintenance URL and the database's name.
    postgres: Option<(String, String)>,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.postgres {
            let dropped = diesel::PgConnection::establish(admin_url).and_then(|mut admin| {
                admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))
            });
            if let Err(error) = dropped {
                eprintln!("the test database {name} was not dropped: {error}");
            }
        }
    }
}

/// Whether this run tests PostgreSQL (else SQLite).
pub fn testing_postgres() -> bool {
    std::env::var(PG_ENV).is_ok_and(|v| !v.is_empty())
}

/// Asserts that this run tests the backend a backend-only test was written for. Such a
/// test is `#[ignore]`d, named `sqlite_only_…` or `postgres_only_…`, and run by
/// scripts/test on its backend alone, so the other backend reports it as ignored
/// instead of passing it without checking anything.
pub fn require_backend(postgres: bool) {
    assert_eq!(
        testing_postgres(),
        postgres,
        "this test checks {} only: run it with `--ignored {}` against that backend",
        if postgres { "PostgreSQL" } else { "SQLite" },
        if postgres {
            "postgres_only"
        } else {
            "sqlite_only"
        },
    );
}

/// A fresh database: a temp SQLite file, or a new PostgreSQL database.
pub fn fresh_database(dir: &tempfile::TempDir) -> TestDatabase {
    match std::env::var(PG_ENV) {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!(
                "clientele_test_{}",
                clientele::domain::password::random_hex(8)
            );
            let mut admin = diesel::PgConnection::establish(&admin_url)
                .expect("connect to the test PostgreSQL");
            admin
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("create a test database");
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b)
                .expect("a database URL with a path");
            TestDatabase {
                url: format!("{base}/{name}").parse().expect("a PostgreSQL URL"),
                postgres: Some((admin_url, name)),
            }
        }
        _ => TestDatabase {
            url: format!("sqlite://{}", dir.path().join("test.db").display())
                .parse()
                .expect("a SQLite URL"),
            postgres: None,
        },
    }
}

/// Starts a server on a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server on a fresh database with adjusted settings.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = fresh_database(&dir);
    let mut settings = Settings::for_tests(database.url.clone());
    adjust(&mut settings);
    let app = Application::build(settings).expect("the application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let pool = app.pool();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        pool,
        _database: database,
        _dir: dir,
    }
}

/// Another instance of the server on a test's database, with a data directory of its own
/// (as on another machine).
pub struct Sibling {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// The database URL the server uses.
    pub fn database_url(&self) -> String {
        self._database.url.to_string()
    }

    /// Starts another instance on this test's database.
    pub async fn sibling(&self) -> Sibling {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = Settings::for_tests(self._database.url.clone());
        settings.data_dir = dir.path().to_path_buf();
        let app = Application::build(settings).expect("the second instance builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        Sibling { address, _dir: dir }
    }

    /// A new browser: its own cookie jar, no redirects followed.
    pub fn browser(&self) -> Browser {
        Browser::at(&self.address)
    }

    /// Runs `f` on a pooled connection.
    pub fn with_db<T>(&self, f: impl FnOnce(&mut DbConnection) -> T) -> T {
        let mut conn = self.pool.get().expect("a pooled connection");
        f(&mut conn)
    }

    /// Creates an account (no forced password change) and returns its id.
    pub fn create_user(&self, username: &str, role: Role) -> i64 {
        let input = clientele::services::accounts::AccountInput {
            username: username.to_owned(),
            display_name: format!("{username} display"),
            role: role.as_str().to_owned(),
            time_zone: String::new(),
            password: PASSWORD.to_owned(),
        };
        let account = input.parse().expect("valid account");
        self.with_db(|conn| {
            clientele::services::accounts::create_account(
                conn,
                &clientele::domain::customer::Actor::System,
                &account,
                false,
            )
        })
        .expect("account created")
        .id
        .0
    }

    /// A browser signed in as a new supervisor.
    pub async fn supervisor(&self) -> Browser {
        self.create_user("sam.supervisor", Role::Supervisor);
        let browser = self.browser();
        let response = browser.sign_in("sam.supervisor", PASSWORD).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        browser
    }

    /// A browser signed in as a new agent `username`, the only member of a new team that
    /// works whole `channels`.
    pub async fn agent_in_team(&self, username: &str, channels: &[&str]) -> Browser {
        let id = self.create_user(username, Role::Agent);
        let input = clientele::services::teams::TeamInput {
            name: format!("{username}'s team"),
            members: vec![id],
            channels: channels.iter().map(|c| (*c).to_owned()).collect(),
            accounts: String::new(),
        };
        self.with_db(|conn| {
            clientele::services::teams::save_team(
                conn,
                &clientele::domain::customer::Actor::System,
                None,
                &input,
            )
        })
        .expect("team saved");
        let browser = self.browser();
        let response = browser.sign_in(username, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        browser
    }

    /// A browser signed in as a new agent.
    pub async fn agent(&self) -> Browser {
        self.create_user("ana.agent", Role::Agent);
        let browser = self.browser();
        let response = browser.sign_in("ana.agent", PASSWORD).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        browser
    }
}

/// One browser session against the test server.
pub struct Browser {
    http: reqwest::Client,
    base: String,
}

impl Browser {
    /// A new browser on the server at `address` (another instance).
    pub fn at(address: &str) -> Browser {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(redirect::Policy::none())
            .build()
            .expect("http client");
        Browser {
            http,
            base: address.to_owned(),
        }
    }

    /// GET a path.
    pub async fn get(&self, path: &str) -> Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET request")
    }

    /// GET a path and return its body, asserting 200.
    pub async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.text().await.expect("body")
    }

    /// Opens a self-service link as a customer does: the page it shows, then its button.
    /// Returns the button's answer.
    pub async fn open_link(&self, link: &str) -> Response {
        let shown = self.get(link).await;
        if shown.status() != StatusCode::OK {
            return shown;
        }
        let page = shown.text().await.expect("body");
        assert!(page.contains("Open my profile"), "{page}");
        self.post_raw(link, &[]).await
    }

    /// The CSRF token of this browser's session (taken from the sign-in page's form).
    pub async fn csrf_token(&self) -> String {
        let html = self.get("/login").await.text().await.expect("body");
        extract_csrf(&html).expect("a csrf_token field")
    }

    /// POST a form the way the page would: with this session's CSRF token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf_token().await;
        let mut body: Vec<(&str, &str)> = fields.to_vec();
        body.push(("csrf_token", &token));
        self.post_raw(path, &body).await
    }

    /// POST a form the way the page would, with extra headers (what a browser says of the
    /// request's origin).
    pub async fn post_form_with(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Response {
        let token = self.csrf_token().await;
        let mut body: Vec<(&str, &str)> = fields.to_vec();
        body.push(("csrf_token", &token));
        let mut request = self.http.post(format!("{}{path}", self.base)).form(&body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("POST request")
    }

    /// POST a form exactly as given (no token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.http
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .expect("POST request")
    }

    /// Uploads a file as the import form does (multipart, token in the query string).
    pub async fn upload(&self, path: &str, file_name: &str, bytes: Vec<u8>) -> Response {
        let token = self.csrf_token().await;
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name.to_owned())
            .mime_str("text/csv")
            .expect("mime");
        let form = reqwest::multipart::Form::new().part("file", part);
        self.http
            .post(format!("{}{path}?csrf_token={token}", self.base))
            .multipart(form)
            .send()
            .await
            .expect("upload")
    }

    /// Signs in through the form.
    pub async fn sign_in(&self, username: &str, password: &str) -> Response {
        self.post_form("/login", &[("username", username), ("password", password)])
            .await
    }
}

/// The value of the first `csrf_token` hidden field in a page.
pub fn extract_csrf(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// Where a redirect points.
pub fn location(response: &Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Opens the test database directly (for tests that must not use the server's pool).
pub fn connect(url: &DatabaseUrl) -> DbPool {
    db::connect(url, 2).expect("database")
}

impl TestApp {
    /// Creates a custom property directly (as the Settings form would).
    pub fn create_property(
        &self,
        key: &str,
        ty: &str,
        choices: &[&str],
        agent_access: &str,
    ) -> i64 {
        use clientele::db::properties::{self, NewProperty};
        let at = clientele::db::now();
        let choices = serde_json::to_string(choices).expect("json");
        self.with_db(|conn| {
            properties::insert_property(
                conn,
                &NewProperty {
                    key,
                    label: &format!("{key} label"),
                    kind: "custom",
                    value_type: ty,
                    choices,
                    agent_access,
                    customer_access: "hidden",
                    position: 200,
                    created_at: at,
                    updated_at: at,
                },
            )
        })
        .expect("property created")
        .0
    }

    /// Creates a customer with values (technical name → text) through the profile service,
    /// and returns its public ID.
    pub fn create_customer(&self, values: &[(&str, &str)]) -> String {
        use clientele::domain::customer::Actor;
        use clientele::domain::property::RawValue;
        use clientele::services::profiles::{self, Editor, ProfileEdit};
        self.with_db(|conn| {
            let properties = clientele::db::properties::list_properties(conn).expect("registry");
            let edit = ProfileEdit {
                values: values
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), RawValue::One((*v).to_owned())))
                    .collect(),
                lifecycle: None,
            };
            profiles::create_customer(
                conn,
                &properties,
                &Actor::System,
                Editor::Staff(Role::Supervisor),
                &edit,
            )
            .expect("customer created")
            .public_id
        })
    }

    /// Turns "Customers page in agent mode" on or off.
    pub fn set_customers_page_for_agents(&self, on: bool) {
        use clientele::db::settings;
        self.with_db(|conn| {
            settings::upsert_setting(
                conn,
                clientele::db::types::Setting::CustomersPageForAgents,
                if on { "on" } else { "off" },
            )
        })
        .expect("setting saved");
    }

    /// The stored text of one property of a customer, as the profile service reads it.
    pub fn value_of(&self, public_id: &str, key: &str) -> Option<String> {
        self.with_db(|conn| {
            let customer = clientele::db::customers::find_customer_by_public_id(conn, public_id)
                .expect("query")
                .expect("customer exists");
            let properties = clientele::db::properties::list_properties(conn).expect("registry");
            let values =
                clientele::services::profiles::current_values(conn, &customer, &properties)
                    .expect("values");
            values
                .get(key)
                .map(clientele::domain::property::Value::form_text)
        })
    }

    /// The current version of a customer, as its edit form carries it.
    pub fn version_of(&self, public_id: &str) -> String {
        self.with_db(|conn| {
            clientele::db::customers::find_customer_by_public_id(conn, public_id)
                .expect("query")
                .expect("customer exists")
                .version
                .to_string()
        })
    }
}

impl TestApp {
    /// A new API token's secret.
    pub fn api_token(&self, name: &str) -> String {
        self.with_db(|conn| {
            clientele::services::tokens::create_token(
                conn,
                &clientele::domain::customer::Actor::System,
                name,
            )
        })
        .expect("token")
    }

    /// Sends a JSON request to the API with a bearer token.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> Response {
        let client = reqwest::Client::new();
        let mut request = client
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("API request")
    }

    /// POSTs an inbound message and returns the JSON answer, asserting 200.
    pub async fn inbound(&self, token: &str, body: serde_json::Value) -> serde_json::Value {
        let response = self
            .api(reqwest::Method::POST, "/api/v1/messages", token, Some(body))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("JSON answer")
    }

    /// The stored customer row by public ID.
    pub fn customer(&self, public_id: &str) -> clientele::db::customers::Customer {
        self.with_db(|conn| {
            clientele::db::customers::find_customer_by_public_id(conn, public_id)
                .expect("query")
                .expect("customer")
        })
    }

    /// Adds a channel identity to a customer, as a supervisor on the profile would.
    pub fn add_identity(&self, public_id: &str, channel: &str, external_id: &str) {
        let id = self.customer(public_id).id;
        self.with_db(|conn| {
            clientele::services::conversations::add_identity(
                conn,
                id,
                channel,
                external_id,
                &clientele::domain::customer::Actor::System,
                &clientele::domain::scope::Scope::Everything,
            )
        })
        .expect("identity added");
    }

    /// The id of a merge into this customer that can still be undone.
    pub fn undoable_merge(&self, survivor: &str) -> i64 {
        let id = self.customer(survivor).id;
        self.with_db(|conn| {
            clientele::services::merge::undoable_into(conn, id)
                .expect("merges")
                .into_iter()
                .next()
                .expect("one undoable merge")
        })
    }
}

impl TestApp {
    /// Lets a minute pass for the one-a-minute limits (links, phone number requests).
    pub fn forget_limits(&self) {
        use diesel::prelude::*;
        self.with_db(|conn| {
            diesel::delete(clientele::db::schema::limit_events::table).execute(conn)
        })
        .expect("limits forgotten");
    }

    /// Works the queue of duplicate checks off, as the background worker does between jobs.
    pub fn work_out_duplicates(&self) {
        self.with_db(|conn| {
            while clientele::services::duplicates::check_pending(conn, 100).expect("checked") > 0 {}
        });
    }
}

/// One row of raw SQL whose single column is named `value`.
#[derive(diesel::QueryableByName)]
pub struct TextRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub value: String,
}

/// The `value` column of raw SQL's rows, on either backend: for the database's own views
/// (its settings, its prepared statements) that Diesel's query builder does not reach.
pub fn text_rows(conn: &mut DbConnection, sql: &str) -> Vec<String> {
    use diesel::RunQueryDsl;
    let rows: Vec<TextRow> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(sql).load(c),
        DbConnection::Postgresql(c) => diesel::sql_query(sql).load(c),
    }
    .expect("the query runs");
    rows.into_iter().map(|row| row.value).collect()
}

/// Receives a web message from `sender` straight through the inbound service, as the API
/// would.
pub fn receive_web(conn: &mut DbConnection, sender: &str, text: &str) {
    let inbound = clientele::services::inbound::Inbound {
        channel: "web".into(),
        external_id: sender.into(),
        text: text.into(),
        ..Default::default()
    };
    clientele::services::inbound::receive(conn, &inbound, "http://127.0.0.1").expect("received");
}
