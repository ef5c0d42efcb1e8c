//! The console (`../../console`, a Vite build) is embedded into the server binary from
//! `console/dist`. The folder is created empty when the console was not built, so the server
//! still builds (and says at `/console` how to build it); cargo rebuilds when the folder changes.
fn main() {
    let manifest = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let dist = manifest.join("../../console/dist");
    if !dist.exists() {
        std::fs::create_dir_all(&dist).expect("console/dist can be created");
    }
    println!("cargo:rerun-if-changed={}", dist.display());
    // `sqlx::migrate!` embeds the migrations; a new file must rebuild the server (sqlx's advice).
    println!("cargo:rerun-if-changed=migrations");
}
