//! `serve`: builds the site, serves it on 127.0.0.1 and rebuilds when a
//! notebook, image or `book.toml` changes.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};
use notify::{RecursiveMode, Watcher};

use crate::load::load_book;
use crate::render::{html::Html, Renderer};

/// Builds once, then serves `<output_dir>/html` on `127.0.0.1:port` forever.
pub fn serve(root: &Path, port: u16) -> Result<()> {
    let site = rebuild(root)?;
    let server = tiny_http::Server::http(("127.0.0.1", port)).map_err(|e| anyhow::anyhow!("cannot listen on 127.0.0.1:{port}: {e}; pick another --port"))?;
    eprintln!("serving {} at http://127.0.0.1:{}/index.html (Ctrl-C stops)", site.display(), server.server_addr().to_ip().map_or(port, |a| a.port()));
    let (tx, rx) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        if let Ok(ev) = ev {
            let _ = tx.send(ev.paths);
        }
    })
    .context("cannot watch the book for changes")?;
    watcher.watch(root, RecursiveMode::Recursive).context("cannot watch the book folder")?;
    let out_dir = crate::config::Config::load(root)?.output_dir();
    let root_owned = root.to_path_buf();
    std::thread::spawn(move || loop {
        let Ok(paths) = rx.recv() else { return };
        let relevant = |ps: &[PathBuf]| ps.iter().any(|p| !p.starts_with(&out_dir));
        let mut changed = relevant(&paths);
        // Let a burst of events settle.
        while let Ok(more) = rx.recv_timeout(Duration::from_millis(200)) {
            changed |= relevant(&more);
        }
        if changed {
            match rebuild(&root_owned) {
                Ok(_) => eprintln!("rebuilt"),
                Err(e) => eprintln!("rebuild failed: {e:#}"),
            }
        }
    });
    for request in server.incoming_requests() {
        let url = request.url().split(['?', '#']).next().unwrap_or("/").to_string();
        let response = match file_for(&site, &url) {
            Some(path) => match std::fs::read(&path) {
                Ok(bytes) => tiny_http::Response::from_data(bytes).with_header(content_type(&path)),
                Err(_) => not_found(),
            },
            None => not_found(),
        };
        let _ = request.respond(response);
    }
    Ok(())
}

fn rebuild(root: &Path) -> Result<PathBuf> {
    let (mut book, mut diags) = load_book(root)?;
    crate::eval::attach_stored(&mut book);
    let html = Html::for_book(&book);
    html.render(&book, &mut diags)?;
    for d in diags.items() {
        eprintln!("{d}");
    }
    Ok(html.out_dir)
}

fn not_found() -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    tiny_http::Response::from_string("not found").with_status_code(404)
}

/// Maps a URL path to a file in the site, refusing anything that leaves it.
fn file_for(site: &Path, url: &str) -> Option<PathBuf> {
    let mut path = site.to_path_buf();
    for part in url.split('/').filter(|p| !p.is_empty()) {
        let part = percent_decode(part);
        if part == ".." || part.contains('\\') || part.starts_with('.') {
            return None;
        }
        path.push(part);
    }
    if path.is_dir() {
        path.push("index.html");
    }
    path.is_file().then_some(path)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn content_type(path: &Path) -> tiny_http::Header {
    let mime = match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css",
        Some("js") => "text/javascript",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("ipynb" | "json") => "application/json",
        _ => "application/octet-stream",
    };
    tiny_http::Header::from_bytes("Content-Type", mime).expect("static header is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_cannot_leave_the_site() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "x").unwrap();
        assert_eq!(file_for(dir.path(), "/"), Some(dir.path().join("index.html")));
        assert_eq!(file_for(dir.path(), "/../etc/passwd"), None);
        assert_eq!(file_for(dir.path(), "/%2e%2e/x"), None);
    }
}
