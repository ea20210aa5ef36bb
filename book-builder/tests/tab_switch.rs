//! The tab switch in a real browser: headless Chromium opens the two-tab fixture's site from a
//! local HTTP server, a check page clicks a tab button of one group, and reads which pane each
//! group shows, which notebook link shows, and what the next page shows after loading it. It
//! also measures a display equation wider than an 800 px window: not clipped on the left, its
//! end reachable by scrolling its box, its number not covered.
//!
//! Chromium comes from `scripts/setup` (`apt-get install -y chromium`), or set `CHROMIUM` to the
//! browser's path; without one the test fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The browser, if one runs here.
fn chromium() -> Option<PathBuf> {
    let candidates = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(["chromium", "chromium-browser", "google-chrome"].map(PathBuf::from));
    candidates.into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Serves `dir` on 127.0.0.1 from a thread; returns the base URL.
fn serve(dir: PathBuf) -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("a local port");
    let port = server.server_addr().to_ip().expect("an IP address").port();
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let path = request
                .url()
                .split(['?', '#'])
                .next()
                .unwrap_or("/")
                .trim_start_matches('/')
                .to_string();
            let file = dir.join(&path);
            let response = match std::fs::read(&file) {
                Ok(bytes) => {
                    let kind = match file.extension().and_then(|e| e.to_str()) {
                        Some("html") => "text/html; charset=utf-8",
                        Some("js") => "text/javascript",
                        Some("css") => "text/css",
                        _ => "application/octet-stream",
                    };
                    tiny_http::Response::from_data(bytes)
                        .with_header(tiny_http::Header::from_bytes("Content-Type", kind).unwrap())
                }
                Err(_) => {
                    tiny_http::Response::from_data(b"not found".to_vec()).with_status_code(404)
                }
            };
            let _ = request.respond(response);
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// The check page: loads basics.html in a frame, clicks the pytorch button of the first group,
/// then loads layers.html, and writes what it saw into `#result`.
const CHECK: &str = r#"<!DOCTYPE html>
<html><body><pre id="result">running</pre>
<iframe id="frame" style="width:1200px;height:900px" src="chapter_tensors/basics.html"></iframe>
<script>
const frame = document.getElementById("frame");
const seen = [];
function groups(doc) {
  return [...doc.querySelectorAll(".tab-group")].map((g) => {
    const shown = [...g.querySelectorAll(".tab-pane")].filter((p) => !p.hidden).map((p) => p.dataset.tab).join("+");
    const active = [...g.querySelectorAll(".tab-button.active")].map((b) => b.dataset.tab).join("+");
    return shown + "/" + active;
  }).join(",");
}
function link(doc) {
  return [...doc.querySelectorAll(".page-actions a.download")].filter((a) => !a.hidden).map((a) => a.dataset.tab).join("+");
}
let step = 0;
frame.addEventListener("load", () => { try { check(); } catch (e) { seen.push("failed " + e); document.getElementById("result").textContent = seen.join("\n"); } });
function check() {
  const doc = frame.contentDocument;
  if (step === 0) {
    step = 1;
    seen.push("before " + groups(doc) + " link " + link(doc));
    doc.querySelectorAll(".tab-group")[0].querySelector('.tab-button[data-tab="pytorch"]').click();
    seen.push("after " + groups(doc) + " link " + link(doc) + " stored " + localStorage.getItem("d2l-tab"));
    frame.src = "chapter_tensors/layers.html";
  } else if (step === 1) {
    step = 2;
    seen.push("next " + groups(doc) + " link " + link(doc));
    // The wide equation in an 800 px window.
    frame.style.width = "800px";
    frame.src = "chapter_tensors/basics.html?narrow";
  } else {
    const eq = doc.getElementById("eq_wide");
    const body = eq.querySelector(".equation-body") || eq;
    const rb = body.getBoundingClientRect(), rm = eq.querySelector("math").getBoundingClientRect(), rn = eq.querySelector(".eqno").getBoundingClientRect();
    const wide = rm.width > rb.width;
    const clipped = rm.left < rb.left - 1;
    const reachable = body.scrollWidth - body.clientWidth >= rm.right - rb.right - 2;
    const covered = rn.left < Math.min(rm.right, rb.right) - 1;
    seen.push("equation wide " + wide + " clipped " + clipped + " reachable " + reachable + " number covered " + covered);
    document.getElementById("result").textContent = seen.join("\n");
  }
}
</script></body></html>
"#;

#[test]
fn a_tab_switch_changes_every_group_and_persists_across_pages() {
    let browser = chromium().expect("no Chromium here: scripts/setup installs it (apt-get install -y chromium), or set CHROMIUM");
    let (tmp, root) = common::named_fixture_copy("tabbook");
    let (ok, out, err) = common::cli(&root, &["build", "html"]);
    assert!(ok, "{out}\n{err}");
    let site = root.join("_build/html");
    std::fs::write(site.join("tab-check.html"), CHECK).unwrap();
    let base = serve(site);
    let profile = tmp.path().join("chromium-profile");
    let dom = run_browser(&browser, &profile, &format!("{base}/tab-check.html"));
    let result = dom
        .split("<pre id=\"result\">")
        .nth(1)
        .and_then(|r| r.split("</pre>").next())
        .unwrap_or_else(|| panic!("no result in:\n{dom}"));
    let lines: Vec<&str> = result.lines().collect();
    assert_eq!(
        lines,
        [
            "before rust/rust,rust/rust,rust/rust link rust",
            "after pytorch/pytorch,pytorch/pytorch,pytorch/pytorch link pytorch stored pytorch",
            "next pytorch/pytorch link pytorch",
            "equation wide true clipped false reachable true number covered false",
        ],
        "one click switches every group and the notebook link, the next page opens on the same tab, \
         and an equation wider than an 800 px window scrolls inside its box beside its number"
    );
}

fn run_browser(browser: &Path, profile: &Path, url: &str) -> String {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--virtual-time-budget=20000", "--dump-dom", url])
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
