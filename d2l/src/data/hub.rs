//! The data hub: a table of data sets (name → URL and SHA-1) and a verified, cached download.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use sha1::{Digest, Sha1};

use super::archive::extract;
use super::DataError;

/// d2l's data hub.
pub const DEFAULT_DATA_URL: &str = "http://d2l-data.s3-accelerate.amazonaws.com/";
/// Overrides the hub's base URL (for a mirror, or a test server on 127.0.0.1).
pub const DATA_URL_ENV: &str = d2l_protocol::env::DATA_URL;
/// Overrides the cache directory.
pub const DATA_DIR_ENV: &str = d2l_protocol::env::DATA_DIR;

/// Where a data set is fetched from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A path relative to the hub's base URL (d2l's `DATA_URL + 'file'`).
    Hub(String),
    /// An absolute URL, used as it is whatever the base URL.
    Url(String),
}

/// One data set of the hub.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubEntry {
    /// The name `download` takes.
    pub name: String,
    /// Where it comes from.
    pub source: Source,
    /// The SHA-1 of the file (40 lowercase hex digits).
    pub sha1: String,
    /// A subdirectory of the cache to keep it in (files of different sets may share a name).
    pub subdir: Option<String>,
}

impl HubEntry {
    /// An entry relative to the hub's base URL, as d2l's `DATA_HUB[name] = (DATA_URL + file, sha1)`.
    pub fn hub(name: &str, file: &str, sha1: &str) -> Self {
        HubEntry {
            name: name.into(),
            source: Source::Hub(file.into()),
            sha1: sha1.to_ascii_lowercase(),
            subdir: None,
        }
    }

    /// An entry with an absolute URL.
    pub fn url(name: &str, url: &str, sha1: &str) -> Self {
        HubEntry {
            name: name.into(),
            source: Source::Url(url.into()),
            sha1: sha1.to_ascii_lowercase(),
            subdir: None,
        }
    }

    /// This entry kept in a subdirectory of the cache.
    pub fn in_subdir(mut self, dir: &str) -> Self {
        self.subdir = Some(dir.into());
        self
    }
}

const FASHION_MNIST_URL: &str = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";

/// The book's data sets, with d2l's URLs and SHA-1s.
fn builtin_entries() -> Vec<HubEntry> {
    let h = HubEntry::hub;
    let u = HubEntry::url;
    vec![
        h(
            "time_machine",
            "timemachine.txt",
            "090b5e7e70c295757f55df93cb0a180b9691891a",
        ),
        h(
            "kaggle_house_train",
            "kaggle_house_pred_train.csv",
            "585e9cc93e70b39160e7921475f9bcd7d31219ce",
        ),
        h(
            "kaggle_house_test",
            "kaggle_house_pred_test.csv",
            "fa19780a7b011d9b009e8bff8e99922a8ee2eb90",
        ),
        h(
            "airfoil",
            "airfoil_self_noise.dat",
            "76e5be1548fd8222e5074cf0faae75edff8cf93f",
        ),
        h(
            "fra-eng",
            "fra-eng.zip",
            "94646ad1522d915e7b0f9296181140edcf86a4f5",
        ),
        h("ptb", "ptb.zip", "319d85e578af0cdc590547f26231e4e31cdf1e42"),
        h(
            "glove.6b.50d",
            "glove.6B.50d.zip",
            "0b8703943ccdb6eb788e6f091b8946e82231bc4d",
        ),
        h(
            "glove.6b.100d",
            "glove.6B.100d.zip",
            "cd43bfb07e44e6f27cbcc7bc9ae3d80284fdaf5a",
        ),
        h(
            "glove.42b.300d",
            "glove.42B.300d.zip",
            "b5116e234e9eb9076672cfeabf5469f3eec904fa",
        ),
        h(
            "wiki.en",
            "wiki.en.zip",
            "c1816da3821ae9f43899be655002f6c723e91b88",
        ),
        h(
            "bert.base",
            "bert.base.torch.zip",
            "225d66f04cae318b841a13d32af3acc165f253ac",
        ),
        h(
            "bert.small",
            "bert.small.torch.zip",
            "c72329e68a732bef0452e4b96a1c341c8910f81f",
        ),
        h(
            "hotdog",
            "hotdog.zip",
            "fba480ffa8aa7e0febbb511d181409f899b9baa5",
        ),
        h(
            "banana-detection",
            "banana-detection.zip",
            "5de26c8fce5ccdea9f91267273464dc968d20d72",
        ),
        h(
            "voc2012",
            "VOCtrainval_11-May-2012.tar",
            "4e443f8a2eca6b1dac8a6c57641b67dd40621a49",
        ),
        h(
            "cifar10_tiny",
            "kaggle_cifar10_tiny.zip",
            "2068874e4b9a9f0fb07ebe0ad2b29754449ccacd",
        ),
        h(
            "dog_tiny",
            "kaggle_dog_tiny.zip",
            "0cb91d09b814ecdc07b50f31f8dcad3e81d6a86d",
        ),
        h(
            "pokemon",
            "pokemon.zip",
            "c065c0e2593b8b161a2d7873e42418bf6a21106c",
        ),
        u(
            "wikitext-2",
            "https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-v1.zip",
            "3c914d17d80b1459be871a5039ac23e752a53cbe",
        ),
        u(
            "aclImdb",
            "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
            "01ada507287d82875905620988597833ad4e0903",
        ),
        u(
            "SNLI",
            "https://nlp.stanford.edu/projects/snli/snli_1.0.zip",
            "9fcde07509c7e87ec61c640c1b2753d9041758e4",
        ),
        // Fashion-MNIST (Xiao et al., 2017). The SHA-1s are those MXNet's Gluon lists for these
        // four archives.
        u(
            "fashion-mnist-train-images",
            &format!("{FASHION_MNIST_URL}train-images-idx3-ubyte.gz"),
            "0cf37b0d40ed5169c6b3aba31069a9770ac9043d",
        )
        .in_subdir("fashion-mnist"),
        u(
            "fashion-mnist-train-labels",
            &format!("{FASHION_MNIST_URL}train-labels-idx1-ubyte.gz"),
            "236021d52f1e40852b06a4c3008d8de8aef1e40b",
        )
        .in_subdir("fashion-mnist"),
        u(
            "fashion-mnist-test-images",
            &format!("{FASHION_MNIST_URL}t10k-images-idx3-ubyte.gz"),
            "626ed6a7c06dd17c0eec72fa3be1740f146a2863",
        )
        .in_subdir("fashion-mnist"),
        u(
            "fashion-mnist-test-labels",
            &format!("{FASHION_MNIST_URL}t10k-labels-idx1-ubyte.gz"),
            "17f9ab60e7257a1620f4ad76bbbaf857c3920701",
        )
        .in_subdir("fashion-mnist"),
    ]
}

/// Entries added with [`DataHub::register_global`], seen by every hub made afterwards.
static REGISTERED: Mutex<Vec<HubEntry>> = Mutex::new(Vec::new());

/// A data hub: where data sets come from and where they are cached.
///
/// ```
/// use d2l::data::DataHub;
/// let hub = DataHub::new().with_base_url("http://127.0.0.1:8000/").with_cache_dir("/tmp/d2l-data");
/// assert_eq!(hub.url("time_machine").unwrap(), "http://127.0.0.1:8000/timemachine.txt");
/// assert_eq!(hub.cached_path("time_machine").unwrap(), std::path::Path::new("/tmp/d2l-data/timemachine.txt"));
/// ```
#[derive(Clone, Debug)]
pub struct DataHub {
    base_url: String,
    cache_dir: PathBuf,
    entries: BTreeMap<String, HubEntry>,
    timeout: Duration,
    body_timeout: Duration,
    attempts: u32,
    quiet: bool,
}

impl Default for DataHub {
    fn default() -> Self {
        Self::new()
    }
}

impl DataHub {
    /// The book's hub: built-in data sets, base URL and cache directory from the environment
    /// (`D2L_DATA_URL`, `D2L_DATA_DIR`) or their defaults.
    pub fn new() -> Self {
        let base_url = std::env::var(DATA_URL_ENV)
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_DATA_URL.into());
        let mut entries: BTreeMap<String, HubEntry> = builtin_entries()
            .into_iter()
            .map(|e| (e.name.clone(), e))
            .collect();
        if let Ok(extra) = REGISTERED.lock() {
            for e in extra.iter() {
                entries.insert(e.name.clone(), e.clone());
            }
        }
        DataHub {
            base_url,
            cache_dir: default_cache_dir(),
            entries,
            timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(600),
            attempts: 3,
            quiet: false,
        }
    }

    /// This hub with another base URL for entries relative to the hub.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// This hub caching into `dir`.
    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = dir.into();
        self
    }

    /// This hub giving up on a connection, or on a server that sends no response headers,
    /// after `timeout` (default 30 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// This hub giving up on a response body that has not arrived completely after `timeout`
    /// (default 10 minutes: the largest file of the hub at about 45 KB/s), so that a transfer
    /// that stalls never hangs a build.
    pub fn with_body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// This hub trying a failed transfer (no connection, a timeout, a cut) this many times in
    /// all, waiting 1 s, then 2 s, … in between (default 3). Missing files (HTTP 4xx) and wrong
    /// checksums are not tried again.
    pub fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// This hub without the "Downloading …" line on stdout.
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The cache directory.
    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }

    /// Adds or replaces an entry of this hub.
    pub fn register(&mut self, entry: HubEntry) {
        self.entries.insert(entry.name.clone(), entry);
    }

    /// Adds or replaces an entry for every hub made afterwards with [`DataHub::new`] (and so for
    /// [`download`]), as a notebook's `d2l.DATA_HUB[name] = ...` does.
    pub fn register_global(entry: HubEntry) {
        if let Ok(mut extra) = REGISTERED.lock() {
            extra.retain(|e| e.name != entry.name);
            extra.push(entry);
        }
    }

    /// The entry for `name`.
    pub fn entry(&self, name: &str) -> Result<&HubEntry, DataError> {
        self.entries
            .get(name)
            .ok_or_else(|| DataError::UnknownDataset {
                name: name.into(),
                known: self.entries.keys().cloned().collect::<Vec<_>>().join(", "),
            })
    }

    /// The names of the data sets.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// The URL `name` is downloaded from.
    pub fn url(&self, name: &str) -> Result<String, DataError> {
        Ok(self.url_of(self.entry(name)?))
    }

    fn url_of(&self, entry: &HubEntry) -> String {
        match &entry.source {
            Source::Url(u) => u.clone(),
            Source::Hub(file) => {
                let base = self.base_url.trim_end_matches('/');
                format!("{base}/{}", file.trim_start_matches('/'))
            }
        }
    }

    /// Where `name` is (or will be) cached.
    pub fn cached_path(&self, name: &str) -> Result<PathBuf, DataError> {
        let entry = self.entry(name)?;
        Ok(self.path_of(entry, &self.url_of(entry)))
    }

    fn path_of(&self, entry: &HubEntry, url: &str) -> PathBuf {
        let file = url
            .rsplit('/')
            .next()
            .filter(|f| !f.is_empty())
            .unwrap_or(&entry.name);
        let file = file.split(['?', '#']).next().unwrap_or(file);
        let mut dir = self.cache_dir.clone();
        if let Some(sub) = &entry.subdir {
            dir.push(sub);
        }
        dir.join(file)
    }

    /// Returns the cached file of `name`, downloading it first unless a file with the right
    /// SHA-1 is already there (then no network is used).
    ///
    /// The download streams into a temporary file beside the target, checks the SHA-1 and the
    /// length, and only then renames it into place: an interrupted or corrupt transfer never
    /// leaves a file that looks valid.
    pub fn download(&self, name: &str) -> Result<PathBuf, DataError> {
        let entry = self.entry(name)?;
        let url = self.url_of(entry);
        let path = self.path_of(entry, &url);
        if path.is_file() {
            let actual = sha1_file(&path)?;
            if actual == entry.sha1 {
                return Ok(path);
            }
            eprintln!(
                "{}: SHA-1 {actual} does not match {}; downloading it again",
                path.display(),
                entry.sha1
            );
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
        if !self.quiet {
            println!("Downloading {} from {url}...", path.display());
        }
        let mut attempt = 1;
        loop {
            match self.fetch(&url, &path, &entry.sha1) {
                Err(DataError::Download { reason, .. })
                    if attempt < self.attempts && !reason.starts_with("http status: 4") =>
                {
                    eprintln!(
                        "{url}: {reason}; trying again ({} of {})",
                        attempt + 1,
                        self.attempts
                    );
                    std::thread::sleep(Duration::from_secs(1 << (attempt - 1)));
                    attempt += 1;
                }
                result => return result.map(|()| path),
            }
        }
    }

    fn fetch(&self, url: &str, path: &Path, sha1: &str) -> Result<(), DataError> {
        let fail = |reason: String| DataError::Download {
            url: url.into(),
            reason,
            path: path.to_path_buf(),
            sha1: sha1.into(),
        };
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(self.timeout))
            .timeout_recv_response(Some(self.timeout))
            .timeout_recv_body(Some(self.body_timeout))
            .build();
        let agent = ureq::Agent::new_with_config(config);
        let mut response = agent.get(url).call().map_err(|e| fail(e.to_string()))?;
        let expected_len = response.body().content_length();
        let mut reader = response.body_mut().as_reader();

        let dir = path.parent().unwrap_or(Path::new("."));
        let file_name = path
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or("download");
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{file_name}."))
            .suffix(".part")
            .tempfile_in(dir)
            .map_err(|e| DataError::io(dir, e))?;
        let mut hasher = Sha1::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut received: u64 = 0;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(fail(format!(
                        "transfer interrupted after {received} bytes: {e}"
                    )))
                }
            };
            hasher.update(&buf[..n]);
            tmp.write_all(&buf[..n])
                .map_err(|e| DataError::io(tmp.path(), e))?;
            received += n as u64;
        }
        if let Some(len) = expected_len {
            if received != len {
                return Err(fail(format!(
                    "transfer ended after {received} of {len} bytes"
                )));
            }
        }
        let actual = hex(&hasher.finalize());
        if actual != sha1 {
            return Err(DataError::HashMismatch {
                url: url.into(),
                expected: sha1.into(),
                actual,
            });
        }
        tmp.as_file()
            .sync_all()
            .map_err(|e| DataError::io(tmp.path(), e))?;
        tmp.persist(path)
            .map_err(|e| DataError::io(path, e.error))?;
        Ok(())
    }

    /// Downloads an archive and unpacks it beside itself (once; a marker remembers a complete
    /// extraction of this exact archive). Returns `folder` inside the cache directory when given,
    /// otherwise the archive's path without its extension (d2l's `download_extract`).
    pub fn download_extract(&self, name: &str, folder: Option<&str>) -> Result<PathBuf, DataError> {
        let archive = self.download(name)?;
        let sha1 = &self.entry(name)?.sha1;
        let base = archive.parent().unwrap_or(Path::new(".")).to_path_buf();
        let file = archive
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or("archive")
            .to_string();
        let marker = base.join(format!(".{file}.extracted"));
        let _lock = lock_cache(&base)?;
        if std::fs::read_to_string(&marker)
            .map(|s| s.trim() == sha1)
            .unwrap_or(false)
        {
            // Already unpacked.
        } else {
            extract(&archive, &base)?;
            std::fs::write(&marker, sha1).map_err(|e| DataError::io(&marker, e))?;
        }
        Ok(match folder {
            Some(f) => base.join(f),
            None => base.join(strip_archive_ext(&file)),
        })
    }
}

/// An exclusive lock on a data cache folder, held while a data set is unpacked or generated
/// there, so that two processes (notebooks evaluated side by side) never see each other's
/// half-written files. Released when dropped.
#[derive(Debug)]
pub struct CacheLock {
    _file: std::fs::File,
}

/// Locks `dir` (creating it), waiting for another process that holds the lock.
pub fn lock_cache(dir: &Path) -> Result<CacheLock, DataError> {
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    let path = dir.join(".d2l-data.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| DataError::io(&path, e))?;
    file.lock().map_err(|e| DataError::io(&path, e))?;
    Ok(CacheLock { _file: file })
}

fn strip_archive_ext(file: &str) -> &str {
    for ext in [".tar.gz", ".tgz", ".zip", ".tar", ".gz"] {
        if let Some(stem) = file.strip_suffix(ext) {
            return stem;
        }
    }
    file
}

/// The default cache directory: `$D2L_DATA_DIR`, else `<user cache dir>/d2l-rs/data`, else
/// `./data`.
fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    match dirs::cache_dir() {
        Some(c) => c.join("d2l-rs").join("data"),
        None => PathBuf::from("data"),
    }
}

/// Downloads a data set of the book's hub (see [`DataHub::download`]) and returns its path.
///
/// ```no_run
/// let path = d2l::data::download("time_machine")?;
/// let text = std::fs::read_to_string(path)?;
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
pub fn download(name: &str) -> Result<PathBuf, DataError> {
    DataHub::new().download(name)
}

/// Downloads and unpacks an archive of the book's hub (see [`DataHub::download_extract`]).
pub fn download_extract(name: &str, folder: Option<&str>) -> Result<PathBuf, DataError> {
    DataHub::new().download_extract(name, folder)
}

/// The SHA-1 of a file, as 40 lowercase hex digits.
pub fn sha1_file(path: impl AsRef<Path>) -> Result<String, DataError> {
    let path = path.as_ref();
    let mut file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut hasher = Sha1::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(|e| DataError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
