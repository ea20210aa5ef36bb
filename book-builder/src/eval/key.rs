//! Cache keys of evaluated notebooks.
//!
//! A notebook's outputs depend on its code cells and on everything those cells run against:
//! the `d2l` crate's sources (with its `protocol` crate), the workspace `Cargo.lock`, the
//! toolchain, and the values of the switches that `d2l` lists as changing results
//! ([`d2l_protocol::env::RESULT_SWITCHES`]); the code that runs the cells (the engine and its
//! evcxr patch, [`d2l_engine::FINGERPRINT`]); the libtorch version; the device (whether
//! libtorch's CUDA backend is there and which GPUs are visible) and the thread settings
//! ([`ENGINE_ENV`]). The key is a SHA-256 over all of them; the part that is the same for
//! every notebook is hashed once.
//!
//! The generated chapter modules of `d2l` (`src/book/chapter_*.rs`, or a folder
//! `src/book/chapter_*/` with one file per section for a long chapter) count only for the notebooks that can see them: those of the module's own chapter and
//! of the chapters after it in the book's order. A new `//@save` item in chapter 14 re-runs
//! chapters 14 and later, not 1–13. Every other file of the crate counts for every notebook.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

/// Environment variables the evaluation passes to the engine and that change outputs: `d2l`'s list.
pub const PASSED_ENV: [&str; 5] = d2l_protocol::env::RESULT_SWITCHES;

/// Settings outside `d2l` that change what a cell computes or prints: the device and threads.
pub const ENGINE_ENV: [&str; 4] = [
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "CUDA_VISIBLE_DEVICES",
    "D2L_CUDA_LIBRARY_DIR",
];

/// Bumped when the stored format or the way outputs are made changes.
const FORMAT: &str = "d2l-book eval v2";

/// The notebook-independent part of every key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    digest: [u8; 32],
    /// The hash of each generated chapter module (`src/book/<module>.rs` and its lines in
    /// `src/book/mod.rs`), by module name.
    chapters: BTreeMap<String, [u8; 32]>,
}

/// The folder of `d2l`'s generated chapter modules.
const BOOK_DIR: &str = "src/book";

impl Environment {
    /// Hashes the `d2l` crate at `d2l_crate` (its `Cargo.toml` and every file under `src/`),
    /// the `Cargo.lock` next to it, `rustc -V`, the values of [`PASSED_ENV`] and
    /// [`ENGINE_ENV`], the engine's fingerprint, and the version and CUDA backend of
    /// `libtorch` (the `torch/` folder the cells run against).
    pub fn compute(d2l_crate: Option<&Path>, libtorch: Option<&Path>) -> Result<Environment> {
        let mut h = Sha256::new();
        field(&mut h, FORMAT.as_bytes());
        field(&mut h, d2l_engine::FINGERPRINT.as_bytes());
        field(&mut h, libtorch_build(libtorch).as_bytes());
        for var in ENGINE_ENV {
            field(&mut h, var.as_bytes());
            field(&mut h, std::env::var(var).unwrap_or_default().as_bytes());
        }
        let mut chapters = BTreeMap::new();
        if let Some(krate) = d2l_crate {
            let manifest = krate.join("Cargo.toml");
            let text = std::fs::read(&manifest).with_context(|| {
                format!(
                    "cannot read {} (set D2L_CRATE_PATH to the d2l crate)",
                    manifest.display()
                )
            })?;
            field(&mut h, b"Cargo.toml");
            field(&mut h, &text);
            let mut files: Vec<_> = [
                krate.join("src"),
                krate.join("protocol/src"),
                krate.join("protocol/Cargo.toml"),
            ]
            .iter()
            .flat_map(walkdir::WalkDir::new)
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file())
            .map(|e| e.into_path())
            .collect();
            files.sort();
            let modules = chapter_modules(&krate.join(BOOK_DIR));
            let mut module_text: BTreeMap<String, Sha256> =
                modules.iter().map(|m| (m.clone(), Sha256::new())).collect();
            for file in files {
                let rel = file.strip_prefix(krate).unwrap_or(&file);
                let bytes = std::fs::read(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                if rel == Path::new(BOOK_DIR).join("mod.rs") {
                    split_book_index(&bytes, &modules, &mut h, &mut module_text);
                    continue;
                }
                let target = match chapter_of(rel).and_then(|m| module_text.get_mut(&m)) {
                    Some(module_hash) => module_hash,
                    None => &mut h,
                };
                field(target, rel.to_string_lossy().as_bytes());
                field(target, &bytes);
            }
            chapters = module_text
                .into_iter()
                .map(|(m, hash)| (m, hash.finalize().into()))
                .collect();
            // The workspace lock file pins what `d2l` is built with.
            let lock = std::fs::read(krate.join("..").join("Cargo.lock")).unwrap_or_default();
            field(&mut h, b"Cargo.lock");
            field(&mut h, &lock);
        }
        field(&mut h, toolchain().as_bytes());
        for var in PASSED_ENV {
            field(&mut h, var.as_bytes());
            field(&mut h, std::env::var(var).unwrap_or_default().as_bytes());
        }
        Ok(Environment {
            digest: h.finalize().into(),
            chapters,
        })
    }

    /// The key of a notebook with these code cells that sees the generated chapter modules
    /// `visible` (its own chapter's and those of the chapters before it). A generated module
    /// of no chapter in `visible` counts only if no notebook's chapter owns it: see
    /// [`Environment::unowned`].
    pub fn key<'a>(&self, cells: impl IntoIterator<Item = &'a str>, visible: &[String]) -> String {
        let mut h = Sha256::new();
        field(&mut h, &self.digest);
        for (module, digest) in &self.chapters {
            if visible.contains(module) {
                field(&mut h, module.as_bytes());
                field(&mut h, digest);
            }
        }
        field(&mut h, code_hash(cells).as_bytes());
        hex(&h.finalize())
    }

    /// The generated modules that belong to none of `chapters` (a chapter removed from the
    /// book, or one evaluated elsewhere): every notebook sees them, to be safe.
    pub fn unowned(&self, chapters: &[String]) -> Vec<String> {
        self.chapters
            .keys()
            .filter(|m| !chapters.contains(m))
            .cloned()
            .collect()
    }
}

/// The chapter modules generated into `book_dir`: every `*.rs` but `mod.rs`, and every folder
/// (a chapter split into one file per section).
fn chapter_modules(book_dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(book_dir) else {
        return Vec::new();
    };
    let mut modules: Vec<String> = entries
        .flatten()
        .filter_map(|e| {
            let path = e.path();
            let module = if path.is_dir() {
                path.file_name()
            } else if path.extension().is_some_and(|x| x == "rs") {
                path.file_stem()
            } else {
                None
            };
            module.and_then(|m| m.to_str()).map(str::to_owned)
        })
        .filter(|m| m != "mod")
        .collect();
    modules.sort();
    modules
}

/// The chapter module that the crate file `rel` (relative to the crate) belongs to:
/// `src/book/<m>.rs` or anything under `src/book/<m>/`. `None` for every other file.
fn chapter_of(rel: &Path) -> Option<String> {
    let inside = rel.strip_prefix(BOOK_DIR).ok()?;
    let mut parts = inside.components();
    let first = parts.next()?.as_os_str().to_str()?;
    let module = match parts.next() {
        Some(_) => first,
        None => first.strip_suffix(".rs")?,
    };
    (module != "mod").then(|| module.to_string())
}

/// Hashes `src/book/mod.rs` line by line: a line that names a chapter module (`pub mod x;`,
/// `pub use self::x::*;`) goes to that module's hash, every other line to the common one.
fn split_book_index(
    bytes: &[u8],
    modules: &[String],
    common: &mut Sha256,
    per_module: &mut BTreeMap<String, Sha256>,
) {
    field(common, b"src/book/mod.rs");
    for line in String::from_utf8_lossy(bytes).lines() {
        let owner = modules.iter().find(|m| {
            line.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|word| word == m.as_str())
        });
        match owner.and_then(|m| per_module.get_mut(m)) {
            Some(module_hash) => field(module_hash, line.as_bytes()),
            None => field(common, line.as_bytes()),
        }
    }
}

/// A hash of the code cells alone: stored outputs are shown while the code is unchanged,
/// even when the environment moved on.
pub fn code_hash<'a>(cells: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Sha256::new();
    for cell in cells {
        field(&mut h, cell.as_bytes());
    }
    hex(&h.finalize())
}

/// The libtorch version (the PyPI wheel's `version.py`) and whether its CUDA backend is present.
fn libtorch_build(libtorch: Option<&Path>) -> String {
    let Some(dir) = libtorch else {
        return "no libtorch".into();
    };
    let version = std::fs::read_to_string(dir.join("version.py"))
        .or_else(|_| std::fs::read_to_string(dir.join("build-version")))
        .unwrap_or_else(|_| "unknown version".into());
    let cuda = dir.join("lib/libtorch_cuda.so").exists();
    format!("{}\ncuda backend: {cuda}", version.trim())
}

/// `rustc -V` (the toolchain the engine compiles cells with).
fn toolchain() -> String {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    std::process::Command::new(rustc)
        .arg("-V")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "rustc unknown".into())
}

/// Length-prefixed, so that field boundaries cannot shift between inputs.
fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys read the thread settings from the environment, and one test changes them: the
    /// tests that compare keys take turns.
    static ENV: std::sync::Mutex<()> = std::sync::Mutex::new(());

    /// A `d2l` crate in `dir` with these files (paths relative to the crate).
    fn temp_crate(dir: &Path, files: &[(&str, &str)]) -> std::path::PathBuf {
        let krate = dir.join("d2l");
        for (rel, text) in [("Cargo.toml", "[package]\nname = \"d2l\"\n")]
            .iter()
            .chain(files)
        {
            std::fs::create_dir_all(krate.join(rel).parent().unwrap()).unwrap();
            std::fs::write(krate.join(rel), text).unwrap();
        }
        krate
    }

    #[test]
    fn keys_follow_code_and_crate_sources() {
        let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let krate = temp_crate(dir.path(), &[("src/lib.rs", "pub fn f() {}\n")]);
        let env = Environment::compute(Some(&krate), None).unwrap();
        let a = env.key(["let x = 1;", "x"], &[]);
        assert_eq!(a, env.key(["let x = 1;", "x"], &[]));
        assert_ne!(
            a,
            env.key(["let x = 1;x", ""], &[]),
            "cell boundaries count"
        );
        assert_ne!(a, env.key(["let x = 2;", "x"], &[]));
        std::fs::write(krate.join("src/lib.rs"), "pub fn f() { }\n").unwrap();
        let changed = Environment::compute(Some(&krate), None).unwrap();
        std::env::set_var("OMP_NUM_THREADS", "7");
        let threads = Environment::compute(Some(&krate), None).unwrap();
        std::env::remove_var("OMP_NUM_THREADS");
        assert_ne!(changed, threads, "thread settings count");
        let torch = dir.path().join("torch");
        std::fs::create_dir_all(torch.join("lib")).unwrap();
        std::fs::write(torch.join("version.py"), "__version__ = '2.11.0+cpu'\n").unwrap();
        let cpu = Environment::compute(Some(&krate), Some(&torch)).unwrap();
        std::fs::write(torch.join("lib/libtorch_cuda.so"), "").unwrap();
        assert_ne!(
            cpu,
            Environment::compute(Some(&krate), Some(&torch)).unwrap(),
            "a CUDA backend counts"
        );
        assert_ne!(
            a,
            changed.key(["let x = 1;", "x"], &[]),
            "a d2l source change invalidates"
        );
        assert_eq!(code_hash(["a"]), code_hash(["a"]));
        assert_eq!(a.len(), 64);
    }

    #[test]
    fn a_chapter_module_counts_only_for_its_chapter_and_later_ones() {
        let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let index = |modules: &[&str]| {
            modules
                .iter()
                .map(|m| format!("pub mod {m};\npub use self::{m}::*;\n"))
                .collect::<String>()
        };
        let krate = temp_crate(
            dir.path(),
            &[
                ("src/lib.rs", "pub mod book;\n"),
                (
                    "src/book/mod.rs",
                    &format!("//! generated\n{}", index(&["chapter_a", "chapter_b"])),
                ),
                ("src/book/chapter_a.rs", "pub fn a() {}\n"),
                ("src/book/chapter_b.rs", "pub fn b() {}\n"),
            ],
        );
        let (early, late) = (
            vec!["chapter_a".to_string()],
            vec!["chapter_a".to_string(), "chapter_b".to_string()],
        );
        let keys = || {
            let env = Environment::compute(Some(&krate), None).unwrap();
            (env.key(["a()"], &early), env.key(["b()"], &late))
        };
        let before = keys();
        // A later chapter saves something new: the earlier chapter's key stays.
        std::fs::write(
            krate.join("src/book/chapter_b.rs"),
            "pub fn b() {}\npub fn b2() {}\n",
        )
        .unwrap();
        let after_b = keys();
        assert_eq!(before.0, after_b.0, "chapter a cannot see chapter b");
        assert_ne!(before.1, after_b.1, "chapter b sees its own module");
        // A new chapter module (and its lines in mod.rs) is invisible to both.
        std::fs::write(krate.join("src/book/chapter_c.rs"), "pub fn c() {}\n").unwrap();
        std::fs::write(
            krate.join("src/book/mod.rs"),
            format!(
                "//! generated\n{}",
                index(&["chapter_a", "chapter_b", "chapter_c"])
            ),
        )
        .unwrap();
        assert_eq!(after_b, keys(), "chapter c is later than both");
        // An earlier chapter's module and the crate's own code count for everyone.
        std::fs::write(krate.join("src/book/chapter_a.rs"), "pub fn a() { }\n").unwrap();
        let after_a = keys();
        assert!(after_a.0 != after_b.0 && after_a.1 != after_b.1);
        std::fs::write(
            krate.join("src/lib.rs"),
            "pub mod book;\npub fn infra() {}\n",
        )
        .unwrap();
        let after_lib = keys();
        assert!(after_lib.0 != after_a.0 && after_lib.1 != after_a.1);
        let env = Environment::compute(Some(&krate), None).unwrap();
        assert_eq!(env.unowned(&late), ["chapter_c"]);
    }

    #[test]
    fn a_chapter_split_into_sections_is_still_one_chapter() {
        let _env = ENV.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let krate = temp_crate(
            dir.path(),
            &[
                ("src/lib.rs", "pub mod book;\n"),
                ("src/book/mod.rs", "//! generated\npub mod chapter_a;\npub use self::chapter_a::*;\npub mod chapter_b;\npub use self::chapter_b::*;\n"),
                ("src/book/chapter_a.rs", "pub fn a() {}\n"),
                ("src/book/chapter_b/mod.rs", "pub mod one;\npub use self::one::*;\n"),
                ("src/book/chapter_b/one.rs", "pub fn b() {}\n"),
            ],
        );
        let env = Environment::compute(Some(&krate), None).unwrap();
        assert_eq!(
            env.chapters.keys().collect::<Vec<_>>(),
            ["chapter_a", "chapter_b"]
        );
        let early = vec!["chapter_a".to_string()];
        let key_a = env.key(["a()"], &early);
        // A section file of the later chapter changes: chapter a's key stays, chapter b's moves.
        std::fs::write(
            krate.join("src/book/chapter_b/one.rs"),
            "pub fn b() {}\npub fn b2() {}\n",
        )
        .unwrap();
        let changed = Environment::compute(Some(&krate), None).unwrap();
        assert_eq!(key_a, changed.key(["a()"], &early));
        assert_ne!(env.chapters["chapter_b"], changed.chapters["chapter_b"]);
        assert_eq!(
            chapter_of(Path::new("src/book/chapter_b/one.rs")).as_deref(),
            Some("chapter_b")
        );
        assert_eq!(chapter_of(Path::new("src/book/mod.rs")), None);
        assert_eq!(chapter_of(Path::new("src/lib.rs")), None);
    }
}
