//! Hostile content must never run: script, event handlers, `javascript:` links, SVG payloads,
//! frames. It reaches the device even when the server's own cleaning is bypassed (written
//! straight into its database), so the device's sanitiser and the CSP are what is tested.

use serde_json::json;

use crate::desktop::{Desktop, Options};
use crate::engine::TestServer;

const HOSTILE: &str = r#"<p>Quarterly results are in.</p>
<script>window.__pwned = 'script'; document.title = 'pwned';</script>
<img src="https://cdn.invalid/x.png" onerror="window.__pwned = 'onerror'">
<img src="x" onerror="window.__pwned = 'onerror2'">
<a id="js" href="javascript:window.__pwned='link'">click me</a>
<svg onload="window.__pwned = 'svg'"><script>window.__pwned = 'svg-script'</script></svg>
<iframe srcdoc="<script>parent.__pwned = 'iframe'</script>"></iframe>
<object data="javascript:window.__pwned='object'"></object>
<div style="background:url(javascript:window.__pwned='css')" onmouseover="window.__pwned='hover'">hover</div>
<form action="javascript:window.__pwned='form'"><button id="go">go</button></form>"#;

#[tokio::test(flavor = "multi_thread")]
async fn hostile_content_never_runs() {
    if !crate::webview_available() {
        return;
    }
    let server = TestServer::start().await;
    let (org, code) = server.demo().await;
    let id = server
        .publish(&org, "Hostile payload test", "<p>clean for now</p>")
        .await;
    // Bypass the server's cleaning, as a compromised server or database would.
    sqlx::query("UPDATE items SET body_html = $1 WHERE id = $2")
        .bind(HOSTILE)
        .bind(&id)
        .execute(&server.state().db.write)
        .await
        .unwrap();

    // A French desktop: the app follows the system language from the first screen.
    let desktop = Desktop::enrolled(
        &server.url(),
        &code,
        Options {
            language: Some("fr_FR.UTF-8"),
            ..Default::default()
        },
    )
    .await;
    let d = &desktop.driver;
    d.wait_for("[data-testid=card]").await;
    let nav = d.wait_for("[data-testid=nav-feed]").await;
    assert!(d.text(&nav).await.starts_with("Actualités"));
    d.execute(
        "document.querySelector(`[data-id='${arguments[0]}']`).click()",
        json!([id]),
    )
    .await;
    let body = d.wait_for("[data-testid=item-body]").await;
    assert!(d.text(&body).await.contains("Quarterly results are in."));

    // Try everything a reader might do: click the link and the button, hover.
    d.execute(
        "for (const s of ['#js', '#go']) { const e = document.querySelector(s); if (e) e.click(); }
         document.querySelectorAll('[data-testid=item-body] *').forEach(e => e.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})));",
        json!([]),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;

    let report = d
        .execute(
            "const b = document.querySelector('[data-testid=item-body]');
             return {
               pwned: window.__pwned ?? null,
               title: document.title,
               scripts: b.querySelectorAll('script').length,
               handlers: [...b.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
               js_links: b.querySelectorAll('[href^=javascript], [src^=javascript], [action], [data]').length,
               svg: b.querySelectorAll('svg').length,
               frames: b.querySelectorAll('iframe, object, embed, form').length,
               styles: b.querySelectorAll('[style]').length,
               page: location.href,
             };",
            json!([]),
        )
        .await;
    d.screenshot("xss-item").await;
    assert_eq!(report["pwned"], json!(null), "{report}");
    assert_eq!(report["title"], "Relay", "{report}");
    for key in ["scripts", "handlers", "js_links", "svg", "frames", "styles"] {
        assert_eq!(report[key], 0, "{key} survived: {report}");
    }
    // Still the app's own page.
    assert!(
        !report["page"].as_str().unwrap().starts_with("javascript"),
        "{report}"
    );
    d.close().await;
}
