//! Makes libtorch's CUDA backend available to the process.
//!
//! The linker drops `libtorch_cuda.so` from our binaries (nothing references its symbols
//! directly), so without help `tch::Cuda::is_available()` is false even on a GPU machine.
//! Loading the library with `RTLD_NOW | RTLD_GLOBAL` runs its static initialisers, which
//! register the CUDA backend with the already-loaded `libtorch_cpu.so`.
//!
//! Timing matters: ATen looks its CUDA hooks up ONCE, at the first call that asks about CUDA
//! (`at::hasCUDA`, `manual_seed`, device queries, ...), and keeps a CPU-only stub forever if
//! the backend is not registered by then. So the library is loaded before `main` (an
//! `.init_array` entry of this module, which runs whenever a program links the device
//! helpers), and nothing here calls into ATen before the `dlopen`.

use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The file that holds libtorch's CUDA backend.
pub const CUDA_LIBRARY_NAME: &str = "libtorch_cuda.so";

/// What happened when `d2l` looked for libtorch's CUDA backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CudaLibrary {
    /// The library was found and loaded; CUDA devices can be used if the machine has any.
    Loaded(PathBuf),
    /// No `libtorch_cuda.so` in any of the searched directories (a CPU-only libtorch).
    Absent {
        /// The directories that were searched, in order.
        searched: Vec<PathBuf>,
    },
    /// The library exists but could not be loaded (missing CUDA runtime, wrong ABI, ...).
    Failed {
        /// The library that was found.
        path: PathBuf,
        /// The loader's message.
        error: String,
    },
}

impl CudaLibrary {
    /// Whether the CUDA backend is in the process.
    pub fn is_loaded(&self) -> bool {
        matches!(self, CudaLibrary::Loaded(_))
    }
}

/// Runs [`cuda_library`] while the process starts, before any code can ask ATen about CUDA.
#[used]
#[link_section = ".init_array"]
static LOAD_AT_START: extern "C" fn() = {
    extern "C" fn load_at_start() {
        let _ = cuda_library();
    }
    load_at_start
};

/// Whether ATen's CUDA hooks are the real ones (registered by `libtorch_cuda.so`) rather than
/// the CPU-only stub. True on a machine without a GPU too, once the backend is loaded in time.
pub fn cuda_backend_registered() -> bool {
    tch::utils::has_cudart()
}

/// Loads the CUDA backend once per process, from the first libtorch lib dir that has it.
///
/// Every device helper calls this before it asks libtorch about devices.
pub fn cuda_library() -> &'static CudaLibrary {
    static LOADED: OnceLock<CudaLibrary> = OnceLock::new();
    LOADED.get_or_init(|| {
        let dirs = libtorch_lib_dirs();
        for dir in &dirs {
            let result = load_cuda_library_from(dir);
            if !matches!(result, CudaLibrary::Absent { .. }) {
                return result;
            }
        }
        CudaLibrary::Absent { searched: dirs }
    })
}

/// Tries to load `libtorch_cuda.so` from `dir`, without caching the result.
///
/// Loading is idempotent at the OS level: a second `dlopen` of the same file only bumps a count.
pub fn load_cuda_library_from(dir: &Path) -> CudaLibrary {
    let path = dir.join(CUDA_LIBRARY_NAME);
    if !path.is_file() {
        return CudaLibrary::Absent {
            searched: vec![dir.to_path_buf()],
        };
    }
    let Ok(c_path) = CString::new(path.as_os_str().as_bytes()) else {
        return CudaLibrary::Failed {
            path,
            error: "path contains a NUL byte".into(),
        };
    };
    // SAFETY: dlopen with a valid C string; the handle is deliberately leaked so that the
    // library stays loaded for the life of the process.
    let handle = unsafe { libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
    if handle.is_null() {
        // SAFETY: dlerror returns a thread-local C string or null.
        let error = unsafe {
            let msg = libc::dlerror();
            if msg.is_null() {
                "unknown dlopen error".to_owned()
            } else {
                CStr::from_ptr(msg).to_string_lossy().into_owned()
            }
        };
        return CudaLibrary::Failed { path, error };
    }
    CudaLibrary::Loaded(path)
}

/// Environment variable that names the one directory to load `libtorch_cuda.so` from.
/// Point it at an empty directory to run on the CPU even where a GPU exists.
pub const CUDA_DIR_ENV: &str = "D2L_CUDA_LIBRARY_DIR";

/// Directories that may hold libtorch's libraries, best first: `$D2L_CUDA_LIBRARY_DIR` alone
/// when it is set; otherwise the directory of the `libtorch_cpu.so` this process already runs
/// (so CUDA comes from the same install), then `$LIBTORCH/lib`, then the libtorch the crate was
/// built against.
pub fn libtorch_lib_dirs() -> Vec<PathBuf> {
    if let Some(dir) = std::env::var_os(CUDA_DIR_ENV) {
        return vec![PathBuf::from(dir)];
    }
    let mut dirs = Vec::new();
    if let Some(dir) = loaded_libtorch_dir() {
        dirs.push(dir);
    }
    if let Some(root) = std::env::var_os("LIBTORCH") {
        dirs.push(PathBuf::from(root).join("lib"));
    }
    if let Some(root) = option_env!("LIBTORCH") {
        dirs.push(PathBuf::from(root).join("lib"));
    }
    dirs.dedup();
    dirs
}

/// The directory of the `libtorch_cpu.so` mapped into this process, read from /proc/self/maps.
fn loaded_libtorch_dir() -> Option<PathBuf> {
    // libtorch_cpu.so is a DT_NEEDED library of anything that uses tch, so it is mapped before
    // our initialisers run. Do not call into ATen here (see the module docs).
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .find(|path| path.ends_with("/libtorch_cpu.so"))
        .and_then(|path| Path::new(path).parent().map(Path::to_path_buf))
}
