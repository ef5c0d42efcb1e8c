//! Relay's desktop app: a thin Tauri v2 shell over the device engine (`relay-client`).
//! Everything the device does lives in the engine; this crate wires it to a window, a tray,
//! notifications and links.

pub mod accounts;
pub mod autostart;
pub mod bindings;
pub mod commands;
pub mod error;
pub mod first_screen;
pub mod guard;
pub mod i18n;
pub mod images;
pub mod live;
#[cfg(desktop)]
pub mod notifications;
pub mod personal;
pub mod programme;
#[cfg(mobile)]
pub mod push;
pub mod rendering;
pub mod routes;
pub mod state;
#[cfg(desktop)]
pub mod tray;
pub mod views;

use std::path::PathBuf;
use std::sync::Arc;

use relay_client::Engine;
use tauri::{AppHandle, Manager, Runtime, WindowEvent};

use crate::state::{AppState, Live};

/// Where the app keeps its cache and outbox: `RELAY_DATA_DIR`, else the platform's data folder.
pub fn data_dir() -> PathBuf {
    std::env::var_os("RELAY_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(Engine::default_data_dir)
}

/// Refreshes the tray menu where there is one.
pub fn tray_refresh<R: Runtime>(app: &AppHandle<R>) {
    #[cfg(desktop)]
    tray::refresh(app);
    #[cfg(mobile)]
    let _ = app;
}

fn open_engine<R: Runtime>(app: &AppHandle<R>) -> Result<Engine, relay_client::ClientError> {
    let dir = data_dir();
    std::fs::create_dir_all(&dir)?;
    let engine = Engine::open_with_keychain(&dir)?;
    #[cfg(desktop)]
    let engine = engine.with_notifier(Arc::new(notifications::DesktopNotifier {
        app: app.clone(),
    }));
    #[cfg(mobile)]
    let _ = app;
    Ok(engine)
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
    let mut builder = tauri::Builder::default();
    #[cfg(desktop)]
    {
        // First: a second launch hands its arguments (a relay:// link) to this one and exits.
        builder = builder
            .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
                routes::show_window(app);
                routes::open_links(app, argv);
            }))
            .plugin(tauri_plugin_autostart::init(
                tauri_plugin_autostart::MacosLauncher::LaunchAgent,
                Some(vec!["--minimized"]),
            ));
    }
    #[cfg(mobile)]
    {
        builder = builder.plugin(tauri_plugin_remote_push::init());
    }
    builder
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
            #[cfg(desktop)]
            tray::create(&handle)?;
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
                    #[cfg(mobile)]
                    push::register(&starter);
                }
            });
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the window keeps Relay in the tray, syncing.
            #[cfg(desktop)]
            if let WindowEvent::CloseRequested { api, .. } = event {
                api.prevent_close();
                let _ = window.hide();
            }
        })
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
