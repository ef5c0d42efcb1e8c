//! Relay's desktop app: a thin Tauri v2 shell over the device engine (`relay-client`).
//! Everything the device does lives in the engine; this crate wires it to a window, a tray,
//! notifications and links.

pub mod accounts;
pub mod bindings;
pub mod commands;
#[cfg(desktop)]
pub mod desktop;
pub mod error;
pub mod first_screen;
pub mod guard;
pub mod i18n;
pub mod images;
pub mod live;
#[cfg(mobile)]
pub mod mobile;
pub mod personal;
pub mod programme;
pub mod rendering;
pub mod routes;
pub mod state;
pub mod views;

// What differs between desktops and phones, behind one set of calls.
#[cfg(desktop)]
pub(crate) use desktop as platform;
#[cfg(mobile)]
pub(crate) use mobile as platform;

use std::path::PathBuf;
use std::sync::Arc;

use relay_client::Engine;
use tauri::{AppHandle, Manager, Runtime};

use crate::state::{AppState, Live};

/// Where the app keeps its cache and outbox: `RELAY_DATA_DIR`, else the platform's data folder.
pub fn data_dir() -> PathBuf {
    std::env::var_os("RELAY_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(Engine::default_data_dir)
}

/// Refreshes the tray menu where there is one.
pub fn tray_refresh<R: Runtime>(app: &AppHandle<R>) {
    platform::refresh_tray(app);
}

fn open_engine<R: Runtime>(app: &AppHandle<R>) -> Result<Engine, relay_client::ClientError> {
    let dir = data_dir();
    std::fs::create_dir_all(&dir)?;
    let engine = Engine::open_with_keychain(&dir)?;
    Ok(platform::engine(engine, app))
}

/// When the process started, for the first-paint figure.
pub static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Under the startup benchmark (`RELAY_BENCH`), says how long after launch a step of the start
/// path came, so the benchmark shows where the time goes.
pub fn bench_mark(step: &str) {
    if std::env::var_os("RELAY_BENCH").is_some() {
        let ms = STARTED.get().map(|s| s.elapsed().as_millis()).unwrap_or(0);
        eprintln!("startup: {step} at {ms} ms");
    }
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    STARTED.get_or_init(std::time::Instant::now);
    rendering::choose();
    relay_client::init_logging();

    let specta = bindings::builder();
    platform::plugins(tauri::Builder::default())
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(guard::plugin())
        .register_asynchronous_uri_scheme_protocol(images::SCHEME, images::handle)
        .invoke_handler(specta.invoke_handler())
        .manage(routes::Pending::default())
        .setup(move |app| {
            bench_mark("setup begins");
            specta.mount_events(app);
            let handle = app.handle().clone();
            let engine = open_engine(&handle).map_err(|e| {
                tracing::error!(error = %e, "cannot open the device engine");
                e
            })?;
            bench_mark("engine open");
            app.manage(AppState {
                engine,
                live: Arc::new(Live::default()),
            });
            let minimized = std::env::args().any(|a| a == "--minimized");
            first_screen::main_window(&handle, &app.state::<AppState>(), !minimized)?;
            platform::setup(&handle)?;
            bench_mark("tray made");
            links(&handle);
            bench_mark("setup ends");
            // The first paint need not wait for the keychain's answer (a D-Bus round trip) on
            // whether the device is signed in: live mode starts once it comes.
            let starter = handle.clone();
            tauri::async_runtime::spawn_blocking(move || {
                let signed_in = starter
                    .state::<AppState>()
                    .engine
                    .status()
                    .map(|s| s.signed_in && s.synced)
                    .unwrap_or(false);
                if signed_in {
                    live::start(&starter);
                    platform::signed_in(&starter);
                }
            });
            Ok(())
        })
        .on_window_event(platform::window_event)
        .run(tauri::generate_context!("tauri.conf.json"))
        .expect("error while running Relay");
}

/// `relay://` links: registered with the desktop, taken from a cold start's arguments, and
/// followed while running.
fn links<R: Runtime>(app: &AppHandle<R>) {
    use tauri_plugin_deep_link::DeepLinkExt;
    // Registering writes the desktop's handler files and runs its tools: off the start path.
    #[cfg(any(target_os = "linux", windows))]
    {
        let registrar = app.clone();
        std::thread::spawn(move || {
            if let Err(e) = registrar.deep_link().register_all() {
                tracing::warn!(error = %e, "could not register relay:// links");
            }
        });
    }
    let handle = app.clone();
    app.deep_link().on_open_url(move |event| {
        routes::open_links(&handle, event.urls().iter().map(|u| u.to_string()));
    });
    routes::open_links(app, std::env::args().skip(1));
}
