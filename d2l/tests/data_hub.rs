//! The real download path against an HTTP server on 127.0.0.1 that serves ../shared/data (set
//! `D2L_SHARED_DATA` to put it elsewhere): verified downloads, corrupt and truncated transfers
//! that leave nothing in the cache, and cached files used without the network.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use d2l::data::{sha1_file, DataError, DataHub, HubEntry};

fn shared_data() -> PathBuf {
    match std::env::var_os("D2L_SHARED_DATA") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    }
}

/// How the test server answers.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// The file as it is.
    Honest,
    /// The file with one byte changed.
    Corrupt,
    /// A Content-Length for the whole file, half of it, then the connection closes.
    Truncated,
    /// The first this many requests get the headers and a few bytes, then nothing (the
    /// connection stays open); later requests get the file.
    Stalls(usize),
}

/// A static file server on 127.0.0.1 (tiny_http); it stops when dropped. In `Truncated` mode a
/// hand-written server answers instead, since a server library will not break its own promise of
/// a Content-Length.
struct Server {
    url: String,
    requests: Arc<AtomicUsize>,
    stop: Arc<dyn Fn() + Send + Sync>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    fn start(root: PathBuf, mode: Mode) -> Server {
        if matches!(mode, Mode::Truncated | Mode::Stalls(_)) {
            return Self::start_misbehaving(root, mode);
        }
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let url = format!("http://{}/", server.server_addr().to_ip().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let (s, n) = (server.clone(), requests.clone());
        let thread = thread::spawn(move || {
            for request in s.incoming_requests() {
                n.fetch_add(1, Ordering::SeqCst);
                let name = request.url().trim_start_matches('/').to_string();
                let path = root.join(&name);
                if name.contains("..") || !path.is_file() {
                    let _ = request.respond(tiny_http::Response::empty(404));
                    continue;
                }
                let mut bytes = std::fs::read(&path).unwrap();
                if mode == Mode::Corrupt {
                    bytes[10] ^= 0xff;
                }
                let _ = request.respond(tiny_http::Response::from_data(bytes));
            }
        });
        let stop = move || server.unblock();
        Server {
            url,
            requests,
            stop: Arc::new(stop),
            thread: Some(thread),
        }
    }

    fn start_misbehaving(root: PathBuf, mode: Mode) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let stopping = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (n, flag) = (requests.clone(), stopping.clone());
        let n_total = requests.clone();
        let n_requests = |n: &Arc<AtomicUsize>| n.load(Ordering::SeqCst);
        let thread = thread::spawn(move || {
            let mut stalled = Vec::new();
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                n.fetch_add(1, Ordering::SeqCst);
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head);
                let name = head
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("/")
                    .trim_start_matches('/')
                    .to_string();
                let bytes = std::fs::read(root.join(name)).unwrap_or_default();
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    bytes.len()
                );
                match mode {
                    // The whole length is promised, half is sent, and the connection closes.
                    Mode::Truncated => {
                        let _ = stream.write_all(&bytes[..bytes.len() / 2]);
                    }
                    // A stall: a few bytes, then silence on an open connection.
                    Mode::Stalls(n) if n >= n_requests(&n_total) => {
                        let _ = stream.write_all(&bytes[..10]);
                        let _ = stream.flush();
                        stalled.push(stream);
                        continue;
                    }
                    _ => {
                        let _ = stream.write_all(&bytes);
                    }
                }
                let _ = stream.flush();
            }
        });
        let stop = move || {
            stopping.store(true, Ordering::SeqCst);
            let _ = std::net::TcpStream::connect(addr);
        };
        Server {
            url: format!("http://{addr}/"),
            requests,
            stop: Arc::new(stop),
            thread: Some(thread),
        }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        (self.stop)();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn hub(url: &str, cache: &Path) -> DataHub {
    DataHub::new()
        .with_base_url(url)
        .with_cache_dir(cache)
        .with_timeout(std::time::Duration::from_secs(5))
        .quiet(true)
}

/// Every file in `dir`, temporary ones included.
fn files_in(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn shared_data_matches_the_hub() {
    let hub = DataHub::new();
    for (name, file) in [
        ("time_machine", "timemachine.txt"),
        ("kaggle_house_train", "kaggle_house_pred_train.csv"),
        ("kaggle_house_test", "kaggle_house_pred_test.csv"),
        ("airfoil", "airfoil_self_noise.dat"),
    ] {
        assert_eq!(
            sha1_file(shared_data().join(file)).unwrap(),
            hub.entry(name).unwrap().sha1,
            "{file}"
        );
    }
}

#[test]
fn downloads_verify_and_cache_then_work_offline() {
    let cache = tempfile::tempdir().unwrap();
    let server = Server::start(shared_data(), Mode::Honest);
    let hub = hub(&server.url, cache.path());
    let path = hub.download("time_machine").unwrap();
    assert_eq!(path, cache.path().join("timemachine.txt"));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(shared_data().join("timemachine.txt")).unwrap()
    );
    assert_eq!(server.requests(), 1);
    assert_eq!(
        files_in(cache.path()),
        ["timemachine.txt"],
        "no temporary file left behind"
    );

    // A second call uses the cache: no request.
    hub.download("time_machine").unwrap();
    assert_eq!(server.requests(), 1);

    // With the server gone, the cached file is still found (no network is touched).
    drop(server);
    let offline = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/", offline.local_addr().unwrap());
    drop(offline);
    let again = self::hub(&dead_url, cache.path())
        .download("time_machine")
        .unwrap();
    assert_eq!(again, path);

    // A data set that is not cached fails with the URL and the manual fix in the message.
    let err = self::hub(&dead_url, cache.path())
        .download("airfoil")
        .unwrap_err();
    assert!(matches!(err, DataError::Download { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("{dead_url}airfoil_self_noise.dat")),
        "{msg}"
    );
    assert!(
        msg.contains("76e5be1548fd8222e5074cf0faae75edff8cf93f") && msg.contains("D2L_DATA_URL"),
        "{msg}"
    );
    assert!(!cache.path().join("airfoil_self_noise.dat").exists());
}

#[test]
fn a_corrupt_download_is_refused_and_leaves_nothing() {
    let cache = tempfile::tempdir().unwrap();
    let server = Server::start(shared_data(), Mode::Corrupt);
    let err = hub(&server.url, cache.path())
        .download("kaggle_house_test")
        .unwrap_err();
    match &err {
        DataError::HashMismatch {
            expected,
            actual,
            url,
        } => {
            assert_eq!(expected, "fa19780a7b011d9b009e8bff8e99922a8ee2eb90");
            assert_ne!(actual, expected);
            assert!(url.ends_with("kaggle_house_pred_test.csv"));
        }
        e => panic!("expected a hash mismatch, got {e:?}"),
    }
    assert!(
        files_in(cache.path()).is_empty(),
        "{:?}",
        files_in(cache.path())
    );
}

#[test]
fn a_truncated_download_is_refused_and_leaves_nothing() {
    let cache = tempfile::tempdir().unwrap();
    let server = Server::start(shared_data(), Mode::Truncated);
    let err = hub(&server.url, cache.path())
        .download("airfoil")
        .unwrap_err();
    assert!(matches!(err, DataError::Download { .. }), "{err:?}");
    println!("{err}");
    assert!(err.to_string().contains("transfer"), "{err}");
    assert!(
        files_in(cache.path()).is_empty(),
        "{:?}",
        files_in(cache.path())
    );
}

#[test]
fn a_stalled_transfer_times_out_and_is_tried_again() {
    let quick = |url: &str, cache: &Path| {
        hub(url, cache).with_body_timeout(std::time::Duration::from_secs(1))
    };
    let cache = tempfile::tempdir().unwrap();
    let server = Server::start(shared_data(), Mode::Stalls(1));
    let path = quick(&server.url, cache.path())
        .download("airfoil")
        .expect("the second try succeeds");
    assert_eq!(
        sha1_file(&path).unwrap(),
        "76e5be1548fd8222e5074cf0faae75edff8cf93f"
    );
    assert_eq!(server.requests(), 2, "one stalled transfer, one retry");
    // A server that always stalls: the download fails after its attempts, in bounded time.
    let cache = tempfile::tempdir().unwrap();
    let server = Server::start(shared_data(), Mode::Stalls(usize::MAX));
    let started = std::time::Instant::now();
    let err = quick(&server.url, cache.path())
        .with_attempts(2)
        .download("airfoil")
        .unwrap_err();
    assert!(matches!(err, DataError::Download { .. }), "{err:?}");
    assert_eq!(server.requests(), 2);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(
        files_in(cache.path()).is_empty(),
        "{:?}",
        files_in(cache.path())
    );
}

#[test]
fn a_bad_cached_file_is_downloaded_again() {
    let cache = tempfile::tempdir().unwrap();
    std::fs::write(cache.path().join("timemachine.txt"), "not the time machine").unwrap();
    let server = Server::start(shared_data(), Mode::Honest);
    let path = hub(&server.url, cache.path())
        .download("time_machine")
        .unwrap();
    assert_eq!(
        sha1_file(&path).unwrap(),
        "090b5e7e70c295757f55df93cb0a180b9691891a"
    );
    assert_eq!(server.requests(), 1);
}

#[test]
fn unknown_names_and_http_errors_are_reported() {
    let cache = tempfile::tempdir().unwrap();
    let server = Server::start(shared_data(), Mode::Honest);
    let mut hub = hub(&server.url, cache.path());
    let err = hub.download("no-such-set").unwrap_err();
    assert!(
        err.to_string().contains("time_machine"),
        "lists the known names: {err}"
    );
    hub.register(HubEntry::hub(
        "missing",
        "missing.txt",
        "0000000000000000000000000000000000000000",
    ));
    let err = hub.download("missing").unwrap_err();
    assert!(
        matches!(err, DataError::Download { .. }) && err.to_string().contains("404"),
        "{err}"
    );
    assert!(files_in(cache.path()).is_empty());
}

#[test]
fn archives_download_and_extract_once() {
    // Serve a zip made here, registered under a new name.
    let site = tempfile::tempdir().unwrap();
    let zip_path = site.path().join("pairs.zip");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        zip.add_directory("pairs/", opts).unwrap();
        zip.start_file("pairs/fr-en.txt", opts).unwrap();
        zip.write_all(&std::fs::read(shared_data().join("fr-en-small.txt")).unwrap())
            .unwrap();
        zip.finish().unwrap();
    }
    let sha1 = sha1_file(&zip_path).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let server = Server::start(site.path().to_path_buf(), Mode::Honest);
    let mut hub = hub(&server.url, cache.path());
    hub.register(HubEntry::hub("pairs", "pairs.zip", &sha1));
    let dir = hub.download_extract("pairs", None).unwrap();
    assert_eq!(dir, cache.path().join("pairs"));
    let mut text = String::new();
    std::fs::File::open(dir.join("fr-en.txt"))
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert!(text.contains('\t'));
    // Extracted once: removing a file is not undone by a second call.
    std::fs::remove_file(dir.join("fr-en.txt")).unwrap();
    assert_eq!(hub.download_extract("pairs", Some("pairs")).unwrap(), dir);
    assert!(!dir.join("fr-en.txt").exists());
    assert_eq!(server.requests(), 1);
}
