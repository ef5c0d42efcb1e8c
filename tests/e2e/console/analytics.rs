//! The analytics: charts drawn with a point per month and a bar per visible group, a CSV that
//! holds what the table shows, the month's top ten, the printable report.

use serde_json::json;

use super::harness::*;
use crate::engine::TestServer;

#[tokio::test(flavor = "multi_thread")]
async fn analytics_draw_their_charts_export_what_they_show_and_print_a_report() {
    if !chromium_available() {
        return;
    }
    let server = TestServer::start().await;
    let (org, _) = server.demo().await;
    let item = server
        .publish(&org, "Our new plant opens", "<p>Two hundred jobs.</p>")
        .await;
    // Six people share on LinkedIn this month, five of them on X too.
    for n in 0..6 {
        let token = enrolled_employee(&server, &org, n).await;
        declare_share(&server, &token, &item, "linkedin", n).await;
        if n < 5 {
            declare_share(&server, &token, &item, "x", n).await;
        }
    }

    let browser = Browser::start("en").await;
    let d = &browser.driver;
    d.navigate(&sign_in_link(&server, &org, "lea.moreau@contoso.example").await)
        .await;
    d.wait_for("nav a[href='#/analytics']").await;
    d.click_css("nav a[href='#/analytics']").await;
    d.wait_for("[data-testid=figures]").await;
    see(d, "6 of 6 enrolled").await;
    // The trend: a point per month with figures (this month only), per series.
    let points = d
        .execute(
            "return [0, 1].map(i => document.querySelectorAll(`[data-testid=trend] circle[data-series='${i}']`).length)",
            json!([]),
        )
        .await;
    assert_eq!(points, json!([1, 1]));
    // By network: two bars, LinkedIn's six shares and X's five.
    d.wait_for("[data-testid=bars] rect").await;
    let values = d
        .execute(
            "return [...document.querySelectorAll('[data-testid=bars] rect')].map(r => Number(r.dataset.value))",
            json!([]),
        )
        .await;
    assert_eq!(values, json!([6, 5]));
    // The month's top ten, with the month before beside it.
    see(d, "Top ten, this month and the month before").await;
    let top = d.texts("ol.top li").await;
    assert_eq!(top.len(), 1, "{top:?}");
    assert!(
        top[0].contains("Our new plant opens") && top[0].contains("11 declared"),
        "{top:?}"
    );
    d.screenshot("console-12-analytics").await;

    // The CSV holds what the table shows.
    let rows = d
        .execute(
            "return [...document.querySelectorAll('[data-testid=breakdown-table] tbody tr')].map(tr => [...tr.cells].map(c => c.innerText))",
            json!([]),
        )
        .await;
    d.execute(
        "[...document.querySelectorAll('button')].filter(b => b.innerText.includes('Download CSV'))[1].click()",
        json!([]),
    )
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    // Chromium makes an empty placeholder under the final name and writes a `.crdownload`
    // beside it, renamed over the placeholder when done: wait for that rename.
    let file = loop {
        let files: Vec<_> = std::fs::read_dir(browser.downloads.path())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        let writing = files
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "crdownload"));
        let found = files.into_iter().find(|p| {
            p.extension().is_some_and(|e| e == "csv")
                && std::fs::metadata(p).is_ok_and(|m| m.len() > 0)
        });
        if let (Some(file), false) = (found, writing) {
            break file;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no CSV was downloaded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let csv = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "network,shares,verified,declared,clicks,reach,reach_unknown_shares"
    );
    let table: Vec<Vec<String>> = serde_json::from_value(rows).unwrap();
    assert_eq!(lines.len(), table.len() + 1, "{csv}");
    for (line, row) in lines[1..].iter().zip(&table) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[0], row[0], "{csv}");
        assert_eq!(cells[1], row[1], "{csv}");
        assert_eq!(cells[2], row[2], "{csv}");
    }
    // Declared shares: their reach is unknown, not guessed.
    assert_eq!(lines[1], "LinkedIn,6,0,6,0,0,6");

    // The month's report, ready to print.
    d.click_css("a[href^='#/report/']").await;
    d.wait_for("[data-testid=report-figures]").await;
    let figures = d.texts("[data-testid=report-figures] td").await;
    assert_eq!(figures[2], "11", "{figures:?}");
    assert_eq!(
        d.find_all(".report svg.chart").await.len(),
        6,
        "the trend and five breakdowns"
    );
    d.screenshot("console-13-report").await;
    d.close().await;
}

/// A month where the groups would single people out: a small item shared by two people on
/// Mastodon beside a big one on LinkedIn, and every click on one person's share. The console
/// says what is hidden and why, in English and French, and draws nothing it cannot show.
#[tokio::test(flavor = "multi_thread")]
async fn hidden_figures_read_as_hidden_and_say_why() {
    if !chromium_available() {
        return;
    }
    let server = TestServer::start().await;
    let (org, _) = server.demo().await;
    let big = server
        .publish(&org, "Our new plant opens", "<p>Two hundred jobs.</p>")
        .await;
    let small = server
        .publish(&org, "The night shift's choir", "<p>They sing.</p>")
        .await;
    for n in 0..8 {
        let token = enrolled_employee(&server, &org, n).await;
        if n < 6 {
            declare_share(&server, &token, &big, "linkedin", n).await;
        } else {
            declare_share(&server, &token, &small, "mastodon", n).await;
        }
    }
    // Every click of the month is on one person's share.
    sqlx::query("UPDATE shares SET clicks = 3 WHERE share_id = 's-0-linkedin'")
        .execute(&server.state().db.write)
        .await
        .unwrap();

    for (lang, hidden, why, reason, nothing, few) in [
        (
            "en",
            "hidden",
            "fewer than 5 people behind it",
            "fewer than 5 people, or another figure less this one",
            "every group is hidden",
            "counts hidden",
        ),
        (
            "fr",
            "masqué",
            "moins de 5 personnes derrière",
            "moins de 5 personnes, ou un autre chiffre moins celui-ci",
            "tous les groupes sont masqués",
            "chiffres masqués",
        ),
    ] {
        let browser = Browser::start(lang).await;
        let d = &browser.driver;
        d.navigate(&sign_in_link(&server, &org, "lea.moreau@contoso.example").await)
            .await;
        d.wait_for("nav a[href='#/analytics']").await;
        d.click_css("nav a[href='#/analytics']").await;
        d.wait_for("[data-testid=figures]").await;
        // The month's shares stand (eight people); its clicks, one person's, read as hidden.
        let cards = d.texts("[data-testid=figures] .figure strong").await;
        assert_eq!(cards[2], "8", "{cards:?}");
        assert_eq!(cards[4], hidden, "{cards:?}");
        let clicks = d.texts("[data-testid=figures] .figure").await;
        assert!(clicks[4].contains(why), "{clicks:?}");
        // By network: Mastodon is two people, and LinkedIn would be the month less them: both
        // are hidden, in one row that says why, and no bar is drawn.
        d.wait_for("[data-testid=no-bars]").await;
        see(d, nothing).await;
        assert!(d.find_all("[data-testid=bars] rect").await.is_empty());
        let rows = d.texts("[data-testid=breakdown-table] tbody tr").await;
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert!(
            rows[0].contains("LinkedIn")
                && rows[0].contains("Mastodon")
                && rows[0].contains(reason),
            "{rows:?}"
        );
        // The top ten keeps both ranks and titles; their counts would describe those people.
        let top = d.texts("ol.top li").await;
        assert_eq!(top.len(), 2, "{top:?}");
        assert!(top.iter().all(|t| t.contains(few)), "{top:?}");
        assert!(top.iter().any(|t| t.contains("The night shift's choir")));
        if lang == "en" {
            d.screenshot("console-12b-analytics-hidden").await;
        }
        d.close().await;
    }
}
