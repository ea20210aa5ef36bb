//! Where the engine finds `d2l`, libtorch and its cache, with the environment overrides.

use std::path::PathBuf;

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

/// The evcxr commands and code that load `d2l` into a fresh context.
pub fn preload_code(d2l_crate: &std::path::Path, libtorch: Option<&std::path::Path>) -> String {
    let mut code = String::new();
    if let Some(libtorch) = libtorch {
        code.push_str(&format!(":build_env LIBTORCH={}\n", libtorch.display()));
        code.push_str(":build_env LIBTORCH_CXX11_ABI=1\n");
    }
    // TOML basic strings need `\` and `"` escaped.
    let path = d2l_crate
        .display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    code.push_str(&format!(":dep d2l = {{ path = \"{path}\" }}\n"));
    code.push_str("use d2l::prelude::*;\n");
    // Notebooks follow D2L_SCALE; a program that depends on d2l does so only if it asks.
    code.push_str("d2l::scale::use_env();\n");
    code
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
        let code = preload_code(Path::new("/x/d2l"), Some(Path::new("/t")));
        assert!(code.contains(":build_env LIBTORCH=/t\n"));
        assert!(code.contains(":dep d2l = { path = \"/x/d2l\" }\n"));
        assert!(code.contains("use d2l::prelude::*;\n"));
        assert!(code.ends_with("use d2l::prelude::*;\nd2l::scale::use_env();\n"));
    }

    #[test]
    fn default_crate_is_the_workspace_d2l() {
        if std::env::var_os(D2L_CRATE_PATH_VAR).is_none() {
            assert!(default_d2l_crate().join("Cargo.toml").exists());
        }
    }
}
