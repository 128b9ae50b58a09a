//! The headless Chromium the browser tests drive through chromedriver on the loopback,
//! with axe-core's accessibility check and screenshots for the README.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use thirtyfour::prelude::*;

/// axe-core's script, read once from `AXE_JS` (scripts/test fetches it). Missing: `None`
/// with a notice on a developer's machine; in CI a failure, so the check cannot vanish.
fn axe_script() -> Option<std::sync::Arc<String>> {
    static SCRIPT: std::sync::OnceLock<Option<std::sync::Arc<String>>> = std::sync::OnceLock::new();
    SCRIPT
        .get_or_init(|| {
            let read = std::env::var("AXE_JS")
                .map_err(|e| e.to_string())
                .and_then(|path| std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}")));
            match read {
                Ok(script) => Some(std::sync::Arc::new(script)),
                Err(error) if std::env::var_os("CI").is_none() => {
                    use std::io::Write;
                    let _ = writeln!(
                        std::io::stderr(),
                        "SKIPPED accessibility checks: axe-core is not available ({error}); scripts/test fetches it"
                    );
                    None
                }
                Err(error) => panic!("axe-core must be available in CI (AXE_JS): {error}"),
            }
        })
        .clone()
}

/// A headless Chromium with its own profile, and the chromedriver that drives it.
pub struct Chrome {
    /// The WebDriver session.
    pub driver: WebDriver,
    chromedriver: Child,
    _profile: tempfile::TempDir,
}

impl Chrome {
    /// Starts chromedriver on a free loopback port and opens a browser session. Without
    /// chromedriver, a developer's run skips the browser test with a notice (`None`);
    /// in CI (`CI` set) it fails, so a missing install step cannot hide.
    pub async fn start() -> Option<Chrome> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let chromedriver = Command::new(
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned()),
        )
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
        let chromedriver = match chromedriver {
            Ok(child) => child,
            Err(error) if std::env::var_os("CI").is_none() => {
                use std::io::Write;
                // Straight to the terminal: the test harness hides printed output.
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED browser test: chromedriver cannot start ({error}); scripts/test installs chromium-driver"
                );
                return None;
            }
            Err(error) => panic!("chromedriver must be installed in CI: {error}"),
        };
        let profile = tempfile::tempdir().expect("profile dir");
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(
            &std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned()),
        )
        .expect("binary");
        for arg in [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
        ] {
            caps.add_arg(arg).expect("arg");
        }
        caps.add_arg(&format!("--user-data-dir={}", profile.path().display()))
            .expect("arg");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let driver = loop {
            match WebDriver::new(&url, caps.clone()).await {
                Ok(driver) => break driver,
                Err(error) if Instant::now() > deadline => {
                    panic!("chromedriver did not start: {error}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Some(Chrome {
            driver,
            chromedriver,
            _profile: profile,
        })
    }

    /// Fills a field by its id.
    pub async fn fill(&self, id: &str, value: &str) {
        let field = self.driver.query(By::Id(id)).first().await.expect(id);
        field.clear().await.expect("clear");
        field.send_keys(value).await.expect("type");
    }

    /// Clicks the first element matching a CSS selector.
    pub async fn click(&self, css: &str) {
        self.driver
            .query(By::Css(css))
            .first()
            .await
            .expect(css)
            .click()
            .await
            .expect("click");
    }

    /// Waits until the page's text contains `text`, and returns the page source.
    pub async fn wait_for_text(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let source = self.driver.source().await.expect("page source");
            if source.contains(text) {
                return source;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {text:?} in:\n{source}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Signs in through the form.
    pub async fn sign_in(&self, base: &str, username: &str, password: &str) {
        self.driver
            .goto(format!("{base}/login"))
            .await
            .expect("open sign-in");
        self.fill("username", username).await;
        self.fill("password", password).await;
        self.click("form[action='/login'] button[type=submit]")
            .await;
    }

    /// The accessibility problems axe-core finds on the page as it is now, one line each
    /// ("color-contrast (serious): #id"). axe-core comes from the npm registry through
    /// scripts/test (`AXE_JS`); without it a developer's run skips the check with a notice,
    /// and CI fails.
    pub async fn accessibility_problems(&self) -> Vec<String> {
        let Some(script) = axe_script() else {
            return Vec::new();
        };
        self.driver
            .execute(script.as_str(), Vec::new())
            .await
            .expect("axe-core loads");
        let found = self
            .driver
            .execute_async(
                r"const done = arguments[arguments.length - 1];
                axe.run(document, { resultTypes: ['violations'] })
                  .then((r) => done(r.violations.map((v) => v.id + ' (' + v.impact + '): '
                    + v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join(', '))))
                  .catch((e) => done(['axe-core failed: ' + e]));",
                Vec::new(),
            )
            .await
            .expect("axe-core runs");
        found.convert().expect("a list of problems")
    }

    /// Saves a screenshot of the page to `docs/screenshots/{name}.png` (the README shows
    /// them), when `CLIENTELE_SCREENSHOTS` is set.
    pub async fn screenshot(&self, name: &str) {
        if std::env::var_os("CLIENTELE_SCREENSHOTS").is_none() {
            return;
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot folder");
        self.driver
            .screenshot(&dir.join(format!("{name}.png")))
            .await
            .expect("screenshot");
    }

    /// Ends the session and the driver.
    pub async fn quit(mut self) {
        let _ = self.driver.clone().quit().await;
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
    }
}
