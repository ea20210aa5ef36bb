// d2l-rs patch 7: replays the cell crate's rustc command instead of running cargo.
//
// A cell's `cargo build` spends ~0.16 s (on a 2-core machine, with ~190 dependency units)
// checking fingerprints that only change when a dependency changes. After a cargo build of the
// cell crate, this remembers the rustc command that cargo ran for it (from `cargo build -vv`),
// and later cells run that command directly while nothing that cargo would have looked at has
// changed: the cargo command (its arguments and environment), the crate's `Cargo.toml` and
// `.cargo/config.toml`, and the files of every path dependency (their names, sizes and
// modification times). Anything else falls back to cargo, which captures the command again.
//
// d2l-rs patch 10: a replayed command may search a folder of stand-ins for native libraries
// first (`LinkStubs`, `EvalContext::set_replay_link_stubs`).

use anyhow::Result;
use anyhow::anyhow;
use std::collections::hash_map::DefaultHasher;
use std::ffi::OsString;
use std::hash::Hash;
use std::hash::Hasher;
use std::path::Path;
use std::path::PathBuf;
use std::process::Command;

/// A rustc command for the cell crate, and what it stays valid for.
pub(crate) struct Replay {
    key: u64,
    sources: Vec<PathBuf>,
    stamp: u64,
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    cwd: PathBuf,
    so_path: PathBuf,
}

/// What the cargo command would see of the cell crate's set-up: the command itself (program,
/// arguments, environment), `Cargo.toml` and `.cargo/config.toml`. `None` when cargo runs
/// through a wrapper (`RUSTC_WRAPPER`: evcxr's cache, dylib mode or sccache), whose work a
/// replay would skip.
pub(crate) fn key(command: &Command, crate_dir: &Path) -> Option<u64> {
    if command
        .get_envs()
        .any(|(name, value)| name == "RUSTC_WRAPPER" && value.is_some())
    {
        return None;
    }
    let mut hasher = DefaultHasher::new();
    command.get_program().hash(&mut hasher);
    command.get_args().for_each(|arg| arg.hash(&mut hasher));
    command.get_envs().for_each(|env| env.hash(&mut hasher));
    command.get_current_dir().hash(&mut hasher);
    for file in ["Cargo.toml", ".cargo/config.toml"] {
        std::fs::read(crate_dir.join(file)).ok().hash(&mut hasher);
    }
    Some(hasher.finish())
}

impl Replay {
    /// The command cargo ran for `crate_name`, from the stderr of `cargo build -vv` and the
    /// JSON messages on its stdout (which name the path dependencies). `None` when it is not
    /// there (cargo did not run rustc for the crate) or cannot be read.
    pub(crate) fn capture(
        key: u64,
        crate_name: &str,
        crate_dir: &Path,
        cargo_stdout: &[u8],
        cargo_stderr: &[u8],
    ) -> Option<Replay> {
        let stderr = String::from_utf8_lossy(cargo_stderr);
        let marker = format!(" --crate-name {crate_name} ");
        let line = stderr
            .lines()
            .filter_map(|line| line.trim_start().strip_prefix("Running `"))
            .filter_map(|line| line.strip_suffix('`'))
            .find(|line| line.contains(&marker))?;
        let words = shlex::split(line)?;
        let mut words = words.into_iter().peekable();
        let mut envs = Vec::new();
        while let Some((name, value)) = words.peek().and_then(|word| env_assignment(word)) {
            envs.push((OsString::from(name), OsString::from(value)));
            words.next();
        }
        let program = OsString::from(words.next()?);
        let args: Vec<String> = words.collect();
        let out_dir = args
            .iter()
            .position(|arg| arg == "--out-dir")
            .and_then(|i| args.get(i + 1))?;
        let so_path =
            Path::new(out_dir).join(super::shared_object_name_from_crate_name(crate_name));
        let sources = path_dependencies(cargo_stdout, crate_dir);
        let stamp = stamp(&sources);
        Some(Replay {
            key,
            sources,
            stamp,
            program,
            args: args.into_iter().map(OsString::from).collect(),
            envs,
            cwd: crate_dir.to_owned(),
            so_path,
        })
    }

    /// Whether this command still does what cargo would do for a cargo command with `key`.
    pub(crate) fn is_valid(&self, key: u64) -> bool {
        self.key == key && stamp(&self.sources) == self.stamp
    }

    /// Runs rustc as cargo did; its JSON diagnostics come on stderr, as evcxr's error parser
    /// reads them from cargo. With `link_stubs` (d2l-rs patch 10), the linker looks for native
    /// libraries in that folder before the folders cargo named.
    pub(crate) fn run(&self, link_stubs: Option<&Path>) -> Result<std::process::Output> {
        self.command(link_stubs)
            .output()
            .map_err(|error| anyhow!("Error running rustc: {error}"))
    }

    fn command(&self, link_stubs: Option<&Path>) -> Command {
        let mut command = Command::new(&self.program);
        if let Some(dir) = link_stubs {
            // rustc hands the linker its search folders in the order given, so this one wins.
            let mut search = OsString::from("native=");
            search.push(dir);
            command.arg("-L").arg(search);
        }
        command
            .args(&self.args)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.cwd);
        command
    }

    /// The shared object that a successful run writes.
    pub(crate) fn so_path(&self) -> &Path {
        &self.so_path
    }
}

/// d2l-rs patch 10: a folder of stand-ins for native libraries, for the cell crate's
/// dependencies as they were when it was set.
pub(crate) struct LinkStubs {
    dir: PathBuf,
    manifest: Vec<u8>,
}

impl LinkStubs {
    pub(crate) fn new(dir: PathBuf, crate_dir: &Path) -> LinkStubs {
        let manifest = read_manifest(crate_dir);
        LinkStubs { dir, manifest }
    }

    /// The folder, while the crate's `Cargo.toml` is unchanged: a crate added later (`:dep`)
    /// may itself need the libraries that the stubs stand in for.
    pub(crate) fn for_crate(&self, crate_dir: &Path) -> Option<&Path> {
        (read_manifest(crate_dir) == self.manifest).then_some(self.dir.as_path())
    }
}

fn read_manifest(crate_dir: &Path) -> Vec<u8> {
    std::fs::read(crate_dir.join("Cargo.toml")).unwrap_or_default()
}

/// `NAME=value` as cargo writes an environment variable before the command.
fn env_assignment(word: &str) -> Option<(&str, &str)> {
    let (name, value) = word.split_once('=')?;
    let valid = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then_some((name, value))
}

/// The folders of the path dependencies that cargo reported building (fresh or not), other
/// than the cell crate itself.
fn path_dependencies(cargo_stdout: &[u8], crate_dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = String::from_utf8_lossy(cargo_stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| {
            message["package_id"]
                .as_str()
                .is_some_and(|id| id.starts_with("path+file://"))
        })
        .filter_map(|message| {
            let manifest = message["manifest_path"].as_str()?;
            Some(Path::new(manifest).parent()?.to_owned())
        })
        .filter(|dir| dir != crate_dir)
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

/// A hash of the names, sizes and modification times of the files under `dirs` (not under
/// `target/` or hidden folders), as cargo's fingerprints of path dependencies see them.
fn stamp(dirs: &[PathBuf]) -> u64 {
    fn walk(dir: &Path, hasher: &mut DefaultHasher) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|entry| entry.file_name());
        for entry in entries {
            let name = entry.file_name();
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            if file_type.is_dir() {
                if name != "target" && !name.to_string_lossy().starts_with('.') {
                    walk(&entry.path(), hasher);
                }
            } else if let Ok(metadata) = entry.metadata() {
                entry.path().hash(hasher);
                metadata.len().hash(hasher);
                metadata.modified().ok().hash(hasher);
            }
        }
    }
    let mut hasher = DefaultHasher::new();
    for dir in dirs {
        walk(dir, &mut hasher);
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_command_cargo_ran_for_the_crate() {
        let dir = tempfile::tempdir().unwrap();
        let dep = dir.path().join("dep");
        std::fs::create_dir_all(dep.join("src")).unwrap();
        std::fs::write(dep.join("src/lib.rs"), "pub fn f() {}").unwrap();
        let stderr = "   Compiling ctx v1.0.0\n     Running `CARGO=/bin/cargo CARGO_PKG_NAME=ctx \
            /bin/rustc --crate-name ctx --edition=2024 src/lib.rs --out-dir '/t/a b/deps' -C 'link-arg=x y'`\n";
        let stdout = format!(
            "{{\"reason\":\"compiler-artifact\",\"package_id\":\"path+file://{0}#0.1.0\",\"manifest_path\":\"{0}/Cargo.toml\"}}\n\
             {{\"reason\":\"compiler-artifact\",\"package_id\":\"registry+https://x#y@1\",\"manifest_path\":\"/r/Cargo.toml\"}}\n",
            dep.display()
        );
        let replay =
            Replay::capture(7, "ctx", dir.path(), stdout.as_bytes(), stderr.as_bytes()).unwrap();
        assert_eq!(replay.program, "/bin/rustc");
        assert_eq!(
            replay.envs,
            [
                ("CARGO".into(), "/bin/cargo".into()),
                ("CARGO_PKG_NAME".into(), "ctx".into())
            ]
        );
        assert!(replay.args.contains(&OsString::from("link-arg=x y")));
        assert_eq!(replay.so_path(), Path::new("/t/a b/deps/libctx.so"));
        assert_eq!(replay.sources, [dep.clone()]);
        assert!(replay.is_valid(7));
        assert!(!replay.is_valid(8), "another cargo command or Cargo.toml");
        std::fs::write(dep.join("src/lib.rs"), "pub fn f() { let _ = 1; }").unwrap();
        assert!(!replay.is_valid(7), "a path dependency changed");
    }

    #[test]
    fn link_stubs_are_searched_before_cargos_folders() {
        let dir = tempfile::tempdir().unwrap();
        let stderr =
            "     Running `/bin/rustc --crate-name ctx src/lib.rs --out-dir /t -L native=/lib`\n";
        let replay = Replay::capture(1, "ctx", dir.path(), b"", stderr.as_bytes()).unwrap();
        let args = |stubs: Option<&Path>| -> Vec<OsString> {
            replay
                .command(stubs)
                .get_args()
                .map(OsString::from)
                .collect()
        };
        assert_eq!(args(None)[..2], ["--crate-name", "ctx"]);
        let with_stubs = args(Some(Path::new("/stubs")));
        assert_eq!(with_stubs[..2], ["-L", "native=/stubs"]);
        assert_eq!(with_stubs[2..], args(None)[..]);
    }

    #[test]
    fn link_stubs_hold_while_the_manifest_is_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), "[dependencies]\nd2l = 1\n").unwrap();
        let stubs = LinkStubs::new(PathBuf::from("/stubs"), dir.path());
        assert_eq!(stubs.for_crate(dir.path()), Some(Path::new("/stubs")));
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[dependencies]\nd2l = 1\ntch = 1\n",
        )
        .unwrap();
        assert_eq!(stubs.for_crate(dir.path()), None);
    }

    #[test]
    fn no_replay_without_the_crates_command_or_through_a_wrapper() {
        let dir = tempfile::tempdir().unwrap();
        let stderr = "     Running `/bin/rustc --crate-name other src/lib.rs --out-dir /t`\n";
        assert!(Replay::capture(1, "ctx", dir.path(), b"", stderr.as_bytes()).is_none());
        let mut command = Command::new("cargo");
        assert!(key(&command, dir.path()).is_some());
        command.env("RUSTC_WRAPPER", "/bin/evcxr");
        assert!(key(&command, dir.path()).is_none());
    }
}
