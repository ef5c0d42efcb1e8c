//! An admin, in French and the dark theme: a CSV import with a bad row, an enrolment QR code,
//! next month's points rules, a departure that signs a device out; the page at 200% zoom.

use serde_json::json;

use super::harness::*;
use crate::engine::TestServer;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_imports_people_enrols_and_records_a_departure() {
    if !chromium_available() {
        return;
    }
    let server = TestServer::start().await;
    let (org, alex_code) = server.demo().await;
    let (device, _device_dir) = alex_device(&server, &alex_code).await;

    // In French, in the dark.
    let browser = Browser::start("fr").await;
    let d = &browser.driver;
    let link = sign_in_link(&server, &org, "sam.okafor@contoso.example").await;
    d.navigate(&link).await;
    d.wait_for("nav a[href='#/people']").await;
    set(d, "header select[name=theme]", "dark").await;
    assert_eq!(
        d.execute("return document.documentElement.dataset.theme", json!([]))
            .await,
        "dark"
    );
    d.click_css("nav a[href='#/people']").await;
    see(d, "Importer un CSV").await;

    // A file with one bad row imports nothing and says which row.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("people.csv");
    std::fs::write(
        &bad,
        "name,email,country,language,department\n\
         Nina Roy,nina.roy@contoso.example,FR,fr,Sales\n\
         Omar Haddad,not-an-address,FR,fr,Sales\n",
    )
    .unwrap();
    d.type_into("input[name=csv]", bad.to_str().unwrap()).await;
    see(d, "Rien n’a été importé").await;
    let report = d.texts(".import-errors td").await;
    assert_eq!(report[0], "3", "{report:?}");
    assert!(report[1].contains("email"), "{report:?}");
    assert_eq!(
        server.people_with_email("nina.roy@contoso.example").await,
        0
    );
    d.screenshot("console-06-import-refused").await;
    std::fs::write(
        &bad,
        "name,email,country,language,department\n\
         Nina Roy,nina.roy@contoso.example,FR,fr,Sales\n\
         Omar Haddad,omar.haddad@contoso.example,FR,fr,Sales\n",
    )
    .unwrap();
    d.type_into("input[name=csv]", bad.to_str().unwrap()).await;
    see(d, "2 personnes importées").await;
    assert_eq!(
        server.people_with_email("nina.roy@contoso.example").await,
        1
    );

    // Alex's page: the enrolment QR code, the devices, and the departure.
    set(d, "input[name=q]", "Alex").await;
    see(d, "alex.martin@contoso.example").await;
    d.execute(
        "[...document.querySelectorAll('tbody a')].find(a => a.innerText.includes('Alex Martin')).click()",
        json!([]),
    )
    .await;
    see(d, "Alex's laptop").await;
    press(d, "Nouveau code d’inscription").await;
    d.wait_for(".qr svg").await;
    d.screenshot("console-07-person").await;
    press(d, "Enregistrer le départ").await;
    press(d, "Déconnecter Alex Martin partout").await;
    see(d, "Départ enregistré").await;
    see(d, "Déconnecté le").await;
    d.screenshot("console-08-departure").await;
    let alex_id = server.person_id(&org, "alex.martin@contoso.example").await;
    // The device is signed out by the server.
    assert!(
        device.sync(&mut |_| {}).await.is_err(),
        "the departed device is refused"
    );

    // Settings: the points rules of next month (this month's are frozen).
    d.click_css("nav a[href='#/settings']").await;
    d.wait_for("input[name=daily_cap]").await;
    set(d, "input[name=daily_cap]", "7").await;
    press(d, "Enregistrer les règles").await;
    see(d, "Règles enregistrées").await;
    let rules: Value = d
        .post_async_script("fetch('/v1/programme/rules').then(r => r.json()).then(done)")
        .await;
    assert_eq!(
        rules["rules"]["daily_cap"], 5,
        "this month's rules did not move: {rules}"
    );
    let next_month = d
        .execute(
            "return document.querySelector('form h2').innerText",
            json!([]),
        )
        .await;
    let month = next_month
        .as_str()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_owned();
    let next: Value = d
        .post_async_script(&format!(
            "fetch('/v1/programme/rules?month={month}').then(r => r.json()).then(done)"
        ))
        .await;
    assert_eq!(next["rules"]["daily_cap"], 7, "{next}");
    d.screenshot("console-09-settings").await;
    d.navigate(&format!("{}/console/#/person/{}", server.url(), alex_id))
        .await;
    see(d, "Alex Martin").await;

    // Readable at 200% zoom: the page reflows instead of scrolling sideways.
    d.execute("document.body.style.zoom = '200%'", json!([]))
        .await;
    let overflow = d
        .execute(
            "return document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1",
            json!([]),
        )
        .await;
    d.screenshot("console-10-zoom-200").await;
    assert_eq!(overflow, json!(true), "no sideways scrolling at 200%");
    d.close().await;
}
