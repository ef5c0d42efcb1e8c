//! A small W3C WebDriver client over HTTP, for WebKitWebDriver (the app) and chromedriver (the
//! console).

use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long a step may take before the test fails (the app is a debug build on 2 cores).
pub const PATIENCE: Duration = Duration::from_secs(40);

pub struct WebDriver {
    http: reqwest::Client,
    base: String,
}

#[derive(Clone, Debug)]
pub struct Element(String);

impl WebDriver {
    /// Waits for the driver, then starts the app (a few tries: a cold WebKit start is slow).
    pub async fn connect(port: u16, capabilities: Value) -> WebDriver {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(90))
            .build()
            .unwrap();
        let root = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = http.get(format!("{root}/status")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the WebDriver server did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut last = String::new();
        for _ in 0..3 {
            match http
                .post(format!("{root}/session"))
                .json(&capabilities)
                .send()
                .await
            {
                Ok(r) => {
                    let body: Value = r.json().await.unwrap_or_default();
                    if let Some(id) = body["value"]["sessionId"].as_str() {
                        return WebDriver {
                            http,
                            base: format!("{root}/session/{id}"),
                        };
                    }
                    last = body.to_string();
                }
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        panic!("no WebDriver session: {last}");
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("WebDriver request");
        let value: Value = response.json().await.expect("WebDriver answer");
        value["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// Runs script in the page; `arguments[0..]` are `args`.
    pub async fn execute(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let found = self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await;
        if std::env::var_os("E2E_DEBUG").is_some() {
            eprintln!("find {css}: {found}");
        }
        found
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(|s| Element(s.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Waits until `css` matches a displayed element.
    pub async fn wait_for(&self, css: &str) -> Element {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(e) = self.find_all(css).await.into_iter().next() {
                return e;
            }
            if Instant::now() > deadline {
                let text = self.page_text().await;
                panic!("nothing matches {css} after {PATIENCE:?}; the page says: {text}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until `check` (script returning a truthy value) holds; returns its value.
    pub async fn wait_until(&self, what: &str, script: &str, args: Value) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let v = self.execute(script, args.clone()).await;
            let truthy = !(v.is_null()
                || v == json!(false)
                || v == json!("")
                || v == json!(0)
                || v.get("error").is_some());
            if truthy {
                return v;
            }
            if Instant::now() > deadline {
                let text = self.page_text().await;
                panic!("{what}: still not true after {PATIENCE:?}; the page says: {text}");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    pub async fn page_text(&self) -> String {
        self.execute(
            "return document.body ? document.body.innerText : ''",
            json!([]),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .chars()
        .take(1500)
        .collect()
    }

    /// Clicks `e` once it has stopped moving (two frames in the same place), as a person
    /// would: a click computed before a layout shift lands beside the element.
    pub async fn click(&self, e: &Element) {
        self.post(
            "/execute/async",
            json!({
                "script": STILL,
                "args": [{ELEMENT: e.0}],
            }),
        )
        .await;
        let answer = self
            .post(&format!("/element/{}/click", e.0), json!({}))
            .await;
        if std::env::var_os("E2E_DEBUG").is_some() {
            eprintln!("click: {answer}");
        }
    }

    pub async fn click_css(&self, css: &str) {
        let e = self.wait_for(css).await;
        self.click(&e).await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.wait_for(css).await;
        self.post(&format!("/element/{}/clear", e.0), json!({}))
            .await;
        self.post(&format!("/element/{}/value", e.0), json!({"text": text}))
            .await;
    }

    pub async fn text(&self, e: &Element) -> String {
        self.call(
            reqwest::Method::GET,
            &format!("/element/{}/text", e.0),
            None,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.find_all(css).await {
            out.push(self.text(&e).await);
        }
        out
    }

    /// Saves a PNG under `target/e2e-screenshots/NAME.png` (after two frames, so it is not a
    /// stale paint).
    pub async fn screenshot(&self, name: &str) {
        self.post(
            "/execute/async",
            json!({"script": "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));", "args": []}),
        )
        .await;
        let shot = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot.as_str().unwrap_or_default())
            .expect("a PNG screenshot");
        let dir = crate::desktop::target_dir().join("e2e-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// The window's `(width, height)`.
    pub async fn window_rect(&self) -> (u64, u64) {
        let rect = self.call(reqwest::Method::GET, "/window/rect", None).await;
        (
            rect["width"].as_u64().unwrap_or(1120),
            rect["height"].as_u64().unwrap_or(780),
        )
    }

    pub async fn set_window_size(&self, width: u64, height: u64) {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await;
    }

    pub async fn close(&self) {
        let _ = self.http.delete(&self.base).send().await;
    }

    /// Runs an asynchronous script; it calls `done(value)` when finished.
    pub async fn post_async_script(&self, body: &str) -> Value {
        self.post(
            "/execute/async",
            json!({"script": format!("const done = arguments[0]; {body}"), "args": []}),
        )
        .await
    }

    /// Opens `url` in the current window (browsers, not the app).
    pub async fn navigate(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// The page's address.
    pub async fn current_url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Every cookie the browser holds for the page, with its attributes.
    pub async fn cookies(&self) -> Vec<Value> {
        self.call(reqwest::Method::GET, "/cookie", None)
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

/// Resolves once the element's box is the same for two animation frames (or after 2 s).
const STILL: &str = "const [el, done] = arguments; let last = ''; let same = 0; \
    const end = Date.now() + 2000; \
    const tick = () => { const r = el.getBoundingClientRect(); \
      const now = [r.x, r.y, r.width, r.height].join(); \
      same = now === last ? same + 1 : 0; last = now; \
      if (same >= 2 || Date.now() > end) done(true); else requestAnimationFrame(tick); }; \
    tick();";
