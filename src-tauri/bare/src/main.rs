//! The smallest Tauri v2 app: one window, one page. `scripts/bench-app.sh` compares relay-app
//! against it (size, time to first paint, idle memory).

use std::time::Instant;

static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// The page calls this once painted.
#[tauri::command]
fn painted() {
    let ms = START.get().map(|s| s.elapsed().as_millis()).unwrap_or(0);
    eprintln!("first paint after {ms} ms");
}

fn main() {
    START.get_or_init(Instant::now);
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![painted])
        // Tauri made the window from the configuration just before (as relay-app's setup does).
        .setup(|_| {
            let ms = START.get().map(|s| s.elapsed().as_millis()).unwrap_or(0);
            eprintln!("startup: bare: window made at {ms} ms");
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("bare window");
}
