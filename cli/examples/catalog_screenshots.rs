//! The README's screenshots of the catalog, in headless Chromium:
//!
//! ```sh
//! cargo run -p events-cli --example catalog_screenshots     # writes docs/catalog-*.png
//! ```
//!
//! It writes the catalog of the workspace's registry with `events catalog`, opens the index and
//! the OrderCreatedEvent page, and saves a screenshot of each.

#[path = "../tests/common/browser.rs"]
mod browser;

use std::path::Path;
use std::process::Command;

#[tokio::main]
async fn main() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let site = tempfile::tempdir().unwrap();
    let out = site.path().join("catalog");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["run", "-q", "-p", "events-cli", "--", "catalog", "--out"])
        .arg(&out)
        .current_dir(workspace)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "events catalog failed");
    let docs = workspace.join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    let browser = browser::Browser::start().await;
    for (page, shot, ready) in [
        ("index.html", "catalog-index.png", "document.getElementById('count').textContent.length > 0"),
        (
            "contracts/OrderCreatedEvent.html",
            "catalog-order-created.png",
            "document.querySelector('section.version:not([hidden])') !== null",
        ),
    ] {
        browser.open(&out.join(page)).await;
        browser.wait_until(page, ready).await;
        let png = browser.client.screenshot().await.unwrap();
        std::fs::write(docs.join(shot), png).unwrap();
        println!("{}", docs.join(shot).display());
    }
    browser.close().await;
}
