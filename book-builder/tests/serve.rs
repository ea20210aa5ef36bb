//! `serve`: the site is served on 127.0.0.1 to local hosts only, files outside the site are
//! refused, it is rebuilt when a notebook changes (and only then), and pages learn of rebuilds.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn get_with_host(port: u16, path: &str, host: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body
}

fn get(port: u16, path: &str) -> String {
    get_with_host(port, path, &format!("127.0.0.1:{port}"))
}

struct Kill(std::process::Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serves_the_site_safely_and_rebuilds_on_change_only() {
    let (tmp, root) = common::fixture_copy();
    // Started as the README says: from the folder above the book, with a relative root.
    let mut child = Command::new(env!("CARGO_BIN_EXE_d2l-book"))
        .current_dir(tmp.path())
        .args([
            "--root",
            root.file_name().unwrap().to_str().unwrap(),
            "serve",
            "--port",
            "0",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let child = Kill(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let port: u16 = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("serve printed its address");
        if let Some(rest) = line.split("http://127.0.0.1:").nth(1) {
            break rest.split('/').next().unwrap().parse().unwrap();
        }
    };
    let page = get(port, "/chapter_basics/intro.html");
    assert!(
        page.starts_with("HTTP/1.1 200")
            && page.contains("text/html")
            && page.contains("1.1.</span> Introduction"),
        "{page}"
    );
    assert!(
        page.contains("/__d2l-book/generation"),
        "served pages carry the live-reload script"
    );
    assert!(get_with_host(
        port,
        "/chapter_basics/intro.html",
        &format!("localhost:{port}")
    )
    .starts_with("HTTP/1.1 200"));
    // Other hosts (DNS rebinding) and paths out of the site are refused.
    assert!(
        get_with_host(port, "/chapter_basics/intro.html", "attacker.example")
            .starts_with("HTTP/1.1 403")
    );
    for path in [
        "/../book.toml",
        "/%2Fetc%2Fpasswd",
        "/_static%2F..%2F..%2Fbook.toml",
        "/%2e%2e/book.toml",
    ] {
        assert!(get(port, path).starts_with("HTTP/1.1 404"), "{path}");
    }
    // With nothing changed, nothing is rebuilt (the builder's own writes are not changes).
    std::thread::sleep(Duration::from_secs(3));
    let rebuilds = rx.try_iter().filter(|l| l.contains("rebuilt")).count();
    assert_eq!(rebuilds, 0, "rebuilt without a change");
    let generation = |port| {
        get(port, "/__d2l-book/generation")
            .rsplit("\r\n\r\n")
            .next()
            .unwrap()
            .to_string()
    };
    let before = generation(port);
    // Edit the notebook; the served page follows, and the generation moves on.
    let md = root.join("chapter_basics/intro.md");
    let text = std::fs::read_to_string(&md)
        .unwrap()
        .replace("# Introduction", "# Introduction Revised");
    std::fs::write(&md, text).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if get(port, "/chapter_basics/intro.html").contains("Introduction Revised")
            && generation(port) != before
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the page was not rebuilt within 20 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // One edit, one rebuild.
    std::thread::sleep(Duration::from_secs(2));
    let rebuilds = rx.try_iter().filter(|l| l.contains("rebuilt")).count();
    assert!(rebuilds <= 1, "{rebuilds} rebuilds after one edit");
    drop(child);
}
