//! Where the engine finds `d2l`, libtorch and its cache, with the environment overrides.

use std::path::{Path, PathBuf};

/// Points the preload at another `d2l` crate directory (default: this workspace's `d2l/`).
pub const D2L_CRATE_PATH_VAR: &str = "D2L_CRATE_PATH";
/// Set to `0` to start kernels without `d2l` (plain evcxr).
pub const D2L_PRELOAD_VAR: &str = "D2L_KERNEL_PRELOAD";

/// How an [`crate::Engine`] is set up.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// The `d2l` crate to load with `:dep` and `use d2l::prelude::*;`; `None` loads nothing.
    pub d2l_crate: Option<PathBuf>,
    /// Root of the persistent evcxr work directories (see [`crate::cache`]).
    pub cache_root: PathBuf,
    /// libtorch (the PyPI `torch/` folder) handed to cell builds and the evaluation process.
    pub libtorch: Option<PathBuf>,
    /// Extra environment variables for the evaluation process.
    pub env: Vec<(String, String)>,
}

impl Default for EngineOptions {
    /// Reads `D2L_CRATE_PATH`, `D2L_KERNEL_PRELOAD`, `D2L_KERNEL_CACHE` and `LIBTORCH`,
    /// falling back to the paths baked in when this crate was built.
    fn default() -> Self {
        let preload = std::env::var(D2L_PRELOAD_VAR).map_or(true, |v| v != "0");
        let d2l_crate = preload.then(default_d2l_crate);
        EngineOptions {
            d2l_crate,
            cache_root: super::cache::default_root(),
            libtorch: default_libtorch(),
            env: Vec::new(),
        }
    }
}

/// `$D2L_CRATE_PATH`, else the workspace's `d2l/` (this crate lives in `kernel/engine/`).
pub fn default_d2l_crate() -> PathBuf {
    std::env::var_os(D2L_CRATE_PATH_VAR)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let engine = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
            engine.ancestors().nth(2).unwrap_or(engine).join("d2l")
        })
}

/// `$LIBTORCH` at run time, else the `LIBTORCH` this crate was built with (from
/// `.cargo/config.toml`, written by `scripts/setup`).
pub fn default_libtorch() -> Option<PathBuf> {
    std::env::var_os("LIBTORCH")
        .map(PathBuf::from)
        .or_else(|| option_env!("LIBTORCH").map(PathBuf::from))
}

/// The folder, inside an evcxr work directory, of the crate that re-exports `d2l` as a dylib.
pub const DYLIB_CRATE_DIR: &str = "d2l-dylib";

/// Writes (when it differs) the crate that cells load in place of `d2l` itself: one Rust dylib,
/// `d2l-dylib`, that re-exports everything of the `d2l` crate at `d2l_crate`; returns its folder.
///
/// Why: a cell linked against `d2l` as an rlib pulls the code it uses out of some 160 rlibs
/// (d2l's whole dependency tree) into its own shared object, on every cell: the link alone took
/// 0.20 s, and a cell that trains a model became a 4 MB file. Against the dylib the link is one
/// shared object (0.07 s, a 64 KB file), and all cells share one copy of `d2l`'s statics, as a
/// program has (a data set registered with `DataHub::register_global` in one cell is seen in the
/// next). The files are rewritten only when their text changes, so cargo keeps the built dylib.
///
/// A Rust dylib exports only Rust symbols, but `tch`'s generic methods (`sum(kind)` takes an
/// `impl Into<Option<Kind>>`) are compiled into the cell that calls them and call torch-sys's C
/// wrappers (`atg_sum`, …) themselves. So the crate's build script hands the linker a second
/// version script that exports those wrappers too (GNU ld and lld merge version scripts).
pub fn write_dylib_crate(work_dir: &Path, d2l_crate: &Path) -> std::io::Result<PathBuf> {
    let dir = work_dir.join(DYLIB_CRATE_DIR);
    let manifest = format!(
        "[package]\nname = \"d2l-dylib\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\
         build = \"build.rs\"\n\n[lib]\ncrate-type = [\"dylib\"]\npath = \"lib.rs\"\n\n\
         [dependencies]\nd2l = {{ path = \"{}\" }}\n",
        toml_string(d2l_crate)
    );
    let lib = "//! `d2l` as one Rust dylib, written by the d2l-rs kernel (do not edit).\npub use d2l::*;\n";
    std::fs::create_dir_all(&dir)?;
    for (name, text) in [
        ("Cargo.toml", manifest.as_str()),
        ("lib.rs", lib),
        ("build.rs", DYLIB_BUILD_SCRIPT),
    ] {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
            std::fs::write(&path, text)?;
        }
    }
    Ok(dir)
}

/// The build script of the `d2l-dylib` crate: exports torch-sys's C API (its prefixes `at_`,
/// `atc_`, `atg_`, `ati_`, `atm_`, `ato_`, `ats_`) from the dylib.
const DYLIB_BUILD_SCRIPT: &str = r#"//! Written by the d2l-rs kernel (do not edit): exports torch-sys's C API from the dylib.
fn main() {
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    let map = out.join("torch-sys-c-api.map");
    let prefixes = ["at", "atc", "atg", "ati", "atm", "ato", "ats"];
    let globals: String = prefixes.iter().map(|p| format!("    {p}_*;\n")).collect();
    std::fs::write(&map, format!("{{\n  global:\n{globals}}};\n")).unwrap();
    println!("cargo:rustc-link-arg=-Wl,--version-script={}", map.display());
    println!("cargo:rerun-if-changed=build.rs");
}
"#;

/// The folder, inside an evcxr work directory, of the stand-ins for libtorch's libraries.
pub const LINK_STUBS_DIR: &str = "link-stubs";

/// Writes into `work_dir` an empty linker script for each shared library `lib*.so` of
/// `libtorch/lib`, under the same name, and returns their folder: the vendored evcxr links
/// replayed cells against these (patch 10 in vendor/evcxr/PATCHES.md).
///
/// Why: rustc hands the link of every cell all the native libraries of the crates inside the
/// `d2l-dylib` dylib, libtorch's among them. The linker reads the symbol tables of those ~0.9 GB
/// of shared objects and then drops them (`--as-needed`: a cell calls `d2l`, `tch` and the C
/// wrappers that the dylib exports, never libtorch itself): 0.04 s of a trivial cell's 0.07 s
/// link. The dylib already depends on the libraries a cell could reach.
pub fn write_link_stubs(work_dir: &Path, libtorch: &Path) -> std::io::Result<PathBuf> {
    let dir = work_dir.join(LINK_STUBS_DIR);
    std::fs::create_dir_all(&dir)?;
    let stub = "/* Written by the d2l-rs kernel: an empty stand-in for this libtorch library. */\n";
    for entry in std::fs::read_dir(libtorch.join("lib"))? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("lib") && name.ends_with(".so") {
            let path = dir.join(&*name);
            if std::fs::read_to_string(&path).ok().as_deref() != Some(stub) {
                std::fs::write(&path, stub)?;
            }
        }
    }
    Ok(dir)
}

/// `path` as the inside of a TOML basic string (`\\` and `"` escaped).
fn toml_string(path: &Path) -> String {
    path.display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

/// The evcxr commands and code that load `d2l` into a fresh context whose work directory is
/// `work_dir`. On Linux the cells see [`write_dylib_crate`]'s dylib under the name `d2l`;
/// elsewhere (the version script is GNU ld's and lld's) the `d2l` crate itself.
pub fn preload_code(
    work_dir: &Path,
    d2l_crate: &Path,
    libtorch: Option<&Path>,
) -> std::io::Result<String> {
    let mut code = String::new();
    if let Some(libtorch) = libtorch {
        code.push_str(&format!(":build_env LIBTORCH={}\n", libtorch.display()));
        code.push_str(":build_env LIBTORCH_CXX11_ABI=1\n");
    }
    if cfg!(target_os = "linux") {
        let dylib = write_dylib_crate(work_dir, d2l_crate)?;
        code.push_str(&format!(
            ":dep d2l = {{ package = \"d2l-dylib\", path = \"{}\" }}\n",
            toml_string(&dylib)
        ));
    } else {
        code.push_str(&format!(
            ":dep d2l = {{ path = \"{}\" }}\n",
            toml_string(d2l_crate)
        ));
    }
    code.push_str("use d2l::prelude::*;\n");
    // Notebooks follow D2L_SCALE; a program that depends on d2l does so only if it asks.
    code.push_str("d2l::scale::use_env();\n");
    Ok(code)
}

// No blanket `evcxr_display` for `Debug` values is defined here. One that takes `&mut self`
// (so that d2l's `Show` still wins) saved evcxr's second compile of a final value, but it turned
// a final expression that is an immutable binding (`let device = d2l::try_gpu(); device`) into
// a borrow error (E0596), which evcxr does not retry. Correct output beats the 0.3 s it saved.

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn preload_names_crate_and_libtorch() {
        let work = tempfile::tempdir().unwrap();
        let code = preload_code(work.path(), Path::new("/x/d2l"), Some(Path::new("/t"))).unwrap();
        assert!(code.contains(":build_env LIBTORCH=/t\n"));
        let dylib = work.path().join(DYLIB_CRATE_DIR);
        assert!(code.contains(&format!(
            ":dep d2l = {{ package = \"d2l-dylib\", path = \"{}\" }}\n",
            dylib.display()
        )));
        assert!(code.contains("use d2l::prelude::*;\n"));
        assert!(code.ends_with("use d2l::prelude::*;\nd2l::scale::use_env();\n"));
    }

    #[test]
    fn link_stubs_stand_in_for_libtorchs_shared_libraries_only() {
        let work = tempfile::tempdir().unwrap();
        let libtorch = tempfile::tempdir().unwrap();
        std::fs::create_dir(libtorch.path().join("lib")).unwrap();
        for name in ["libtorch_cpu.so", "libc10.so", "libgomp.so.1", "README"] {
            std::fs::write(libtorch.path().join("lib").join(name), "ELF").unwrap();
        }
        let dir = write_link_stubs(work.path(), libtorch.path()).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["libc10.so", "libtorch_cpu.so"]);
        let stub = std::fs::read_to_string(dir.join("libc10.so")).unwrap();
        assert!(
            stub.starts_with("/*") && stub.trim_end().ends_with("*/"),
            "{stub}"
        );
    }

    #[test]
    fn default_crate_is_the_workspace_d2l() {
        if std::env::var_os(D2L_CRATE_PATH_VAR).is_none() {
            assert!(default_d2l_crate().join("Cargo.toml").exists());
        }
    }

    #[test]
    fn the_dylib_crate_re_exports_d2l_and_is_rewritten_only_when_it_differs() {
        let work = tempfile::tempdir().unwrap();
        let dir = write_dylib_crate(work.path(), Path::new("/x/\"d2l\"")).unwrap();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("crate-type = [\"dylib\"]"), "{manifest}");
        assert!(
            manifest.contains("d2l = { path = \"/x/\\\"d2l\\\"\" }"),
            "{manifest}"
        );
        assert!(std::fs::read_to_string(dir.join("lib.rs"))
            .unwrap()
            .contains("pub use d2l::*;"));
        assert!(std::fs::read_to_string(dir.join("build.rs"))
            .unwrap()
            .contains("--version-script"));
        let modified = |name: &str| {
            std::fs::metadata(dir.join(name))
                .unwrap()
                .modified()
                .unwrap()
        };
        let before = modified("lib.rs");
        std::thread::sleep(std::time::Duration::from_millis(20));
        write_dylib_crate(work.path(), Path::new("/x/\"d2l\"")).unwrap();
        assert_eq!(
            modified("lib.rs"),
            before,
            "unchanged text keeps cargo's build"
        );
    }
}
