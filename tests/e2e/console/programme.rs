//! Programme administration in the console: last month's prize draw run from its prizes to its
//! verified result (the beacon round from a local copy of drand's API serving a real recorded
//! quicknet round, as in the API tests), and the privacy switch every employee sees.

use serde_json::json;

use super::harness::*;

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_runs_the_draw_from_prizes_to_verified_winners() {
    if !chromium_available() {
        return;
    }
    // Enough time to set the prizes and commit in the browser before last month closes.
    let (server, closes) = crate::draws::server_closing_in(40).await;
    let (org, _) = server.demo().await;
    let month = crate::draws::last_months_sharers(&server, &org, closes).await;

    let browser = Browser::start("en").await;
    let d = &browser.driver;
    d.navigate(&sign_in_link(&server, &org, "sam.okafor@contoso.example").await)
        .await;
    d.wait_for("nav a[href='#/draw']").await;
    d.navigate(&format!("{}/console/#/draw/{month}", server.url()))
        .await;
    see(d, &format!("Prize draw · {month}")).await;
    // The heading comes first; the form once the draw has been read.
    d.wait_for("input[name=prize-0]").await;
    set(d, "input[name=prize-0]", "Tablet").await;
    set(d, "input[name=quantity-0]", "1").await;
    press(d, "Add a prize").await;
    d.wait_for("input[name=prize-1]").await;
    set(d, "input[name=prize-1]", "Team outing").await;
    d.click_css("input[name=rule][value=min]").await;
    set(d, "input[name=min]", "1").await;
    press(d, "Save prizes").await;
    see(d, "Prizes saved.").await;
    press(d, "Publish the commitment").await;
    see(d, "Commitment published.").await;
    let seed_hash = d
        .execute(
            "return [...document.querySelectorAll('dd code')].map(c => c.textContent)[0]",
            json!([]),
        )
        .await;
    assert_eq!(seed_hash.as_str().map(str::len), Some(64), "{seed_hash}");
    d.screenshot("console-draw-committed").await;

    // The month closes: the server freezes the list; this browser sees it before the round.
    let wait = (closes + chrono::Duration::milliseconds(2500) - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(wait).await;
    press(d, "Refresh").await;
    see(d, "3 entries").await;
    d.wait_until(
        "the browser saw the list before the round",
        "return document.querySelector('[data-testid=witness]')?.dataset.witness === 'before_round'",
        json!([]),
    )
    .await;
    // A test build says loudly that its beacon clock is moved.
    see(d, "Test build: the beacon's clock is moved").await;

    // Once the round is out, the admin draws.
    let wait = (crate::draws::round_at(closes) + chrono::Duration::milliseconds(500)
        - chrono::Utc::now())
    .to_std()
    .unwrap_or_default();
    tokio::time::sleep(wait).await;
    press(d, "Draw the winners").await;
    see(d, "Winners drawn.").await;
    let all = json!([
        "algorithm",
        "chain",
        "commitment",
        "prizes",
        "times",
        "list",
        "pinned",
        "round",
        "signature",
        "randomness",
        "seed",
        "winners"
    ]);
    let checks = d
        .wait_until(
            "every check passes",
            "const l = [...document.querySelectorAll('[data-testid=checks] li')]; \
             return document.querySelector('[data-testid=verification]')?.dataset.stage === 'drawn' \
               && l.every(c => c.dataset.ok === 'true') ? l.map(c => c.dataset.check) : false",
            json!([]),
        )
        .await;
    assert_eq!(checks, all);
    let winners = d
        .execute(
            "return [...document.querySelectorAll('table tbody tr')].map(r => r.cells[0].textContent + ' · ' + r.cells[1].textContent)",
            json!([]),
        )
        .await;
    let winners: Vec<String> = serde_json::from_value(winners).unwrap();
    assert_eq!(winners.len(), 2, "{winners:?}");
    assert!(
        winners[0].starts_with("Tablet · Sharer ")
            && winners[1].starts_with("Team outing · Sharer ")
    );
    // The published record is what the console checked: the server's answer, verified by the
    // same code every employee's app runs.
    let employee = enrolled_employee(&server, &org, 7).await;
    let draw: relay_protocol::Draw =
        get_as(&server, &employee, &format!("/v1/programme/draws/{month}")).await;
    let chain = relay_draw::Chain::replayed(crate::draws::genesis(closes));
    assert!(matches!(
        relay_draw::check(&draw, &chain),
        Ok(relay_draw::Stage::Drawn(w)) if w.len() == 2
    ));
    d.screenshot("console-draw-verified").await;

    // The operator, the round now public, gives everyone new entry ids and redraws: a record
    // that verifies on its own, refused by this browser, which saw the list before.
    crate::draws::redraw_as_the_operator(&server, &month).await;
    press(d, "Refresh").await;
    d.wait_until(
        "the re-frozen list is refused",
        "const c = document.querySelector('[data-testid=checks] li[data-check=pinned]'); \
         return !!c && c.dataset.ok === 'false' && c.textContent.includes('entry list changed')",
        json!([]),
    )
    .await;
    d.screenshot("console-draw-redrawn").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_turns_individual_exports_on_with_a_reason_and_off() {
    if !chromium_available() {
        return;
    }
    let server = crate::engine::TestServer::start().await;
    let (org, _) = server.demo().await;
    let employee = enrolled_employee(&server, &org, 1).await;
    let privacy = || get_as::<relay_protocol::PrivacySettings>(&server, &employee, "/v1/privacy");
    assert!(!privacy().await.individual_export.enabled);

    let browser = Browser::start("en").await;
    let d = &browser.driver;
    d.navigate(&sign_in_link(&server, &org, "sam.okafor@contoso.example").await)
        .await;
    d.wait_for("nav a[href='#/settings']").await;
    d.click_css("nav a[href='#/settings']").await;
    see(d, "Exports of one person's figures are off.").await;
    let reason = "Works council agreement of 12 November 2026";
    set(d, "textarea[name=reason]", reason).await;
    press(d, "Turn individual exports on").await;
    see(d, "Individual exports are on").await;
    see(d, reason).await;
    let seen = privacy().await;
    assert_eq!(seen.individual_export.reason.as_deref(), Some(reason));

    // Team boards off, and the time zone of the months.
    d.click_css("input[name=team_boards]").await;
    see(d, "Programme settings saved.").await;
    set(d, "input[name=time_zone]", "Europe/Paris").await;
    press(d, "Save time zone").await;
    d.wait_until(
        "the settings are saved",
        "return document.querySelector('input[name=time_zone]').value === 'Europe/Paris' && document.querySelector('[role=status]')",
        json!([]),
    )
    .await;
    let settings: relay_protocol::ProgrammeSettings =
        get_as(&server, &employee, "/v1/programme/settings").await;
    assert_eq!(settings.time_zone, "Europe/Paris");
    assert!(!settings.team_boards);

    press(d, "Turn individual exports off").await;
    see(d, "Individual exports are off.").await;
    assert!(!privacy().await.individual_export.enabled);
    d.screenshot("console-privacy").await;
}
