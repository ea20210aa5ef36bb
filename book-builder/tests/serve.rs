//! `serve`: the site is served on 127.0.0.1 and rebuilt when a notebook changes.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body
}

struct Kill(std::process::Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serves_the_site_and_rebuilds_on_change() {
    let (_tmp, root) = common::fixture_copy();
    let mut child = Command::new(env!("CARGO_BIN_EXE_d2l-book"))
        .arg("--root")
        .arg(&root)
        .args(["serve", "--port", "0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let child = Kill(child);
    let mut lines = BufReader::new(stderr).lines();
    let port: u16 = loop {
        let line = lines.next().expect("serve exited early").unwrap();
        if let Some(rest) = line.split("http://127.0.0.1:").nth(1) {
            break rest.split('/').next().unwrap().parse().unwrap();
        }
    };
    let page = get(port, "/chapter_basics/intro.html");
    assert!(page.starts_with("HTTP/1.1 200") && page.contains("text/html") && page.contains("1.1.</span> Introduction"), "{page}");
    assert!(get(port, "/../book.toml").starts_with("HTTP/1.1 404"));
    // Edit the notebook; the served page follows.
    let md = root.join("chapter_basics/intro.md");
    let text = std::fs::read_to_string(&md).unwrap().replace("# Introduction", "# Introduction Revised");
    std::fs::write(&md, text).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if get(port, "/chapter_basics/intro.html").contains("Introduction Revised") {
            break;
        }
        assert!(Instant::now() < deadline, "the page was not rebuilt within 20 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(child);
}
