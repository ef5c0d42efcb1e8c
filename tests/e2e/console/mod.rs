//! The curators' console in a real browser (Debian's Chromium, driven by chromedriver) against
//! the real server. Screenshots go to `target/e2e-screenshots/`.

mod analytics;
mod curation;
mod harness;
mod people;
mod programme;
