//! `serve`: builds the site, serves it on 127.0.0.1 and rebuilds when a notebook, image or
//! `book.toml` changes; open pages reload themselves after each rebuild.
//!
//! Only this machine may ask, and only for files of the site: a request must name the server
//! by `127.0.0.1:PORT` or `localhost:PORT` in its `Host` header (a web page that reaches the
//! server through DNS rebinding names another host), each decoded path segment must be a plain
//! name, and the file's canonical path must lie inside the canonical site folder (a symbolic
//! link out of the site is refused).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use anyhow::{Context, Result};
use notify::{RecursiveMode, Watcher};

/// The path pages poll for the build generation (live reload).
const RELOAD_PATH: &str = "/__d2l-book/generation";

/// Injected into served pages (not into the built files): reloads the page when the build
/// generation changes.
const RELOAD_SCRIPT: &str = r#"<script>(function(){let seen=null;setInterval(async()=>{try{const r=await fetch("/__d2l-book/generation",{cache:"no-store"});const g=await r.text();if(seen!==null&&g!==seen){location.reload();}seen=g;}catch(e){}},1000);})();</script>"#;

/// Builds once, then serves the site on `127.0.0.1:port` until stopped.
pub fn serve(root: &Path, port: u16) -> Result<()> {
    // Absolute, so that the watcher's absolute paths compare with the output folder.
    let root = std::fs::canonicalize(root)
        .with_context(|| format!("cannot find the book folder {}", root.display()))?;
    let site = rebuild(&root)?;
    let server = tiny_http::Server::http(("127.0.0.1", port)).map_err(|e| {
        anyhow::anyhow!("cannot listen on 127.0.0.1:{port}: {e}; pick another --port")
    })?;
    let port = server.server_addr().to_ip().map_or(port, |a| a.port());
    eprintln!(
        "serving {} at http://127.0.0.1:{port}/index.html (Ctrl-C stops)",
        site.display()
    );
    let generation = Arc::new(AtomicU64::new(1));
    let (tx, rx) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        // Only writes count: the build itself opens and reads every source (access events).
        let writes = |ev: &notify::Event| {
            use notify::event::{EventKind, ModifyKind};
            matches!(
                ev.kind,
                EventKind::Create(_)
                    | EventKind::Remove(_)
                    | EventKind::Modify(
                        ModifyKind::Data(_) | ModifyKind::Name(_) | ModifyKind::Any
                    )
            )
        };
        match ev {
            Ok(ev) if writes(&ev) => {
                let _ = tx.send(ev.paths);
            }
            _ => {}
        }
    })
    .context("cannot watch the book for changes")?;
    watcher
        .watch(&root, RecursiveMode::Recursive)
        .context("cannot watch the book folder")?;
    let out_dir = crate::config::Config::load(&root)?.output_dir();
    let rebuilt = generation.clone();
    std::thread::spawn(move || loop {
        let Ok(paths) = rx.recv() else { return };
        let first_source =
            |ps: &[PathBuf]| ps.iter().find(|p| is_source_change(p, &out_dir)).cloned();
        let mut changed = first_source(&paths);
        // Let a burst of events settle.
        while let Ok(more) = rx.recv_timeout(Duration::from_millis(200)) {
            changed = changed.or_else(|| first_source(&more));
        }
        if let Some(path) = changed {
            eprintln!("{} changed; rebuilding", path.display());
            match rebuild(&root) {
                Ok(_) => {
                    rebuilt.fetch_add(1, Ordering::SeqCst);
                    eprintln!("rebuilt");
                }
                Err(e) => eprintln!("rebuild failed: {e:#}"),
            }
        }
    });
    let site_canonical =
        std::fs::canonicalize(&site).with_context(|| format!("cannot find {}", site.display()))?;
    for request in server.incoming_requests() {
        let host = request
            .headers()
            .iter()
            .find(|h| h.field.equiv("Host"))
            .map(|h| h.value.as_str().to_owned());
        let url = request
            .url()
            .split(['?', '#'])
            .next()
            .unwrap_or("/")
            .to_string();
        let response = if !host_is_local(host.as_deref(), port) {
            text_response(
                403,
                "forbidden: ask for 127.0.0.1 or localhost on this port",
            )
        } else if url == RELOAD_PATH {
            text_response(200, &generation.load(Ordering::SeqCst).to_string())
        } else {
            match file_for(&site_canonical, &url) {
                Some(path) => match std::fs::read(&path) {
                    Ok(bytes) => tiny_http::Response::from_data(with_reload(&path, bytes))
                        .with_header(content_type(&path)),
                    Err(_) => text_response(404, "not found"),
                },
                None => text_response(404, "not found"),
            }
        };
        let _ = request.respond(response);
    }
    Ok(())
}

fn rebuild(root: &Path) -> Result<PathBuf> {
    let opts = crate::driver::BuildOptions {
        root: root.to_path_buf(),
        warning_is_error: false,
        check: false,
        lib_dir: None,
        eval: Default::default(),
        skip_eval: true,
    };
    crate::driver::build(crate::driver::Target::Html, &opts)?;
    Ok(crate::render::Layout::of(&crate::config::Config::load(root)?, None).html)
}

/// Whether a changed path is a source (not the builder's own output or an editor's temp file).
fn is_source_change(path: &Path, out_dir: &Path) -> bool {
    let hidden = path.file_name().is_some_and(|n| {
        n.to_string_lossy().starts_with('.') || n.to_string_lossy().ends_with('~')
    });
    !path.starts_with(out_dir) && !hidden
}

/// `Host: 127.0.0.1:PORT` or `Host: localhost:PORT`, nothing else.
fn host_is_local(host: Option<&str>, port: u16) -> bool {
    let Some(host) = host else { return false };
    let host = host.trim().to_ascii_lowercase();
    host == format!("127.0.0.1:{port}") || host == format!("localhost:{port}")
}

fn text_response(status: u16, text: &str) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    tiny_http::Response::from_string(text).with_status_code(status)
}

/// HTML pages get the live-reload script before `</body>`.
fn with_reload(path: &Path, bytes: Vec<u8>) -> Vec<u8> {
    if path.extension().is_none_or(|e| e != "html") {
        return bytes;
    }
    let html = String::from_utf8_lossy(&bytes);
    match html.rfind("</body>") {
        Some(at) => format!("{}{RELOAD_SCRIPT}{}", &html[..at], &html[at..]).into_bytes(),
        None => bytes,
    }
}

/// Maps a URL path to a file of the site (`site` canonical), refusing anything that leaves it.
fn file_for(site: &Path, url: &str) -> Option<PathBuf> {
    let mut path = site.to_path_buf();
    for part in url.split('/').filter(|p| !p.is_empty()) {
        let part = percent_encoding::percent_decode_str(part)
            .decode_utf8()
            .ok()?;
        // A decoded segment is one plain name: no separators (`%2F`), no `..`, no hidden files.
        if part.contains(['/', '\\', '\0'])
            || part.starts_with('.')
            || Path::new(part.as_ref()).is_absolute()
        {
            return None;
        }
        path.push(part.as_ref());
    }
    if path.is_dir() {
        path.push("index.html");
    }
    // Symbolic links inside the site may point anywhere: the target must be in the site too.
    let real = std::fs::canonicalize(&path).ok()?;
    (real.starts_with(site) && real.is_file()).then_some(real)
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
        let site = std::fs::canonicalize(dir.path()).unwrap().join("site");
        std::fs::create_dir_all(site.join("_static")).unwrap();
        std::fs::write(site.join("index.html"), "x").unwrap();
        std::fs::write(site.join("_static/d2l.css"), "x").unwrap();
        std::fs::write(dir.path().join("secret"), "s").unwrap();
        assert_eq!(file_for(&site, "/"), Some(site.join("index.html")));
        assert_eq!(
            file_for(&site, "/_static/d2l.css"),
            Some(site.join("_static/d2l.css"))
        );
        assert_eq!(
            file_for(&site, "/%5Fstatic/d2l%2Ecss"),
            Some(site.join("_static/d2l.css"))
        );
        for bad in [
            "/../secret",
            "/%2e%2e/secret",
            "/%2Fetc%2Fpasswd",
            "/_static%2F..%2F..%2Fsecret",
            "/_static/%2e%2e/%2e%2e/secret",
            "/%C3%28",
            "/.hidden",
        ] {
            assert_eq!(file_for(&site, bad), None, "{bad}");
        }
        // A link inside the site that points out of it.
        std::os::unix::fs::symlink(dir.path().join("secret"), site.join("link")).unwrap();
        assert_eq!(file_for(&site, "/link"), None);
    }

    #[test]
    fn only_local_hosts_on_the_port_are_served() {
        assert!(host_is_local(Some("127.0.0.1:8000"), 8000));
        assert!(host_is_local(Some("LOCALHOST:8000"), 8000));
        for bad in [
            None,
            Some("127.0.0.1:8001"),
            Some("evil.example:8000"),
            Some("127.0.0.1"),
            Some("localhost"),
        ] {
            assert!(!host_is_local(bad, 8000), "{bad:?}");
        }
    }

    #[test]
    fn the_builders_own_writes_are_not_changes() {
        let out = Path::new("/book/_build");
        assert!(!is_source_change(
            Path::new("/book/_build/html/index.html"),
            out
        ));
        assert!(!is_source_change(Path::new("/book/chapter/.x.md.swp"), out));
        assert!(is_source_change(Path::new("/book/chapter/x.md"), out));
    }
}
