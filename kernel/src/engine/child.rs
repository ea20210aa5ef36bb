//! The evaluation subprocess side: the kernel binary re-executed by evcxr.
//!
//! evcxr reads content blocks out of its subprocess's stdout itself and merges them, by MIME
//! type, into one result at the end of the cell. That loses order, repeats and live updates.
//! So before handing control to evcxr's runtime loop, the subprocess puts a filter between its
//! stdout and the pipe to the kernel: content-block markers are renamed
//! (`EVCXR_BEGIN_CONTENT` → `D2L_KERNEL_BEGIN_CONTENT`, likewise for the end marker), evcxr
//! forwards them as ordinary lines, and the engine's [`crate::engine::display`] parser sees
//! every bundle in order, as it is written.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::FromRawFd;

/// Set by evcxr in the environment of its evaluation subprocess.
const EVCXR_RUNTIME_VAR: &str = "EVCXR_IS_RUNTIME";

/// Call first thing in `main` of any binary that uses [`crate::engine::Engine`]: when this
/// process is an evaluation subprocess (or evcxr's rustc wrapper) it never returns.
pub fn runtime_hook() {
    // Only for our engine's subprocesses (it sets D2L_KERNEL=1): a stock evcxr context in the
    // same binary (the benchmark's baseline) keeps evcxr's own behaviour.
    let ours = std::env::var_os("D2L_KERNEL").is_some_and(|v| v == "1");
    if ours && std::env::var_os(EVCXR_RUNTIME_VAR).is_some() {
        // evcxr asks for full backtraces; a panic message is what a reader needs. Set
        // D2L_KERNEL_BACKTRACE=1 to get them back.
        if std::env::var_os("D2L_KERNEL_BACKTRACE").is_none() {
            std::env::set_var("RUST_BACKTRACE", "0");
        }
        if let Err(error) = install_stdout_filter() {
            // Without the filter, displays still work the stock evcxr way.
            eprintln!("d2l-kernel: stdout filter unavailable ({error}); displays arrive at cell end");
        }
    }
    evcxr::runtime_hook();
}

/// Renames one line's content-block marker, if it has one.
pub fn rename_marker(line: &[u8]) -> Option<Vec<u8>> {
    const PAIRS: [(&[u8], &[u8]); 2] = [
        (b"EVCXR_BEGIN_CONTENT ", b"D2L_KERNEL_BEGIN_CONTENT "),
        (b"EVCXR_END_CONTENT", b"D2L_KERNEL_END_CONTENT"),
    ];
    PAIRS.iter().find_map(|(from, to)| {
        line.strip_prefix(*from).map(|rest| [*to, rest].concat())
    })
}

fn install_stdout_filter() -> std::io::Result<()> {
    let mut fds = [0; 2];
    // SAFETY: plain POSIX calls on descriptors this function owns; fd 1 is replaced before any
    // other thread of this process writes to it (we run first thing in `main`).
    let original = unsafe {
        if libc::pipe(fds.as_mut_ptr()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let original = libc::dup(1);
        if original < 0 || libc::dup2(fds[1], 1) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        libc::close(fds[1]);
        original
    };
    // SAFETY: both descriptors were just created and are owned by the filter thread from now on.
    let (reader, mut writer) = unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(original)) };
    std::thread::Builder::new().name("d2l-stdout-filter".into()).spawn(move || {
        let mut reader = BufReader::new(reader);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let renamed = rename_marker(&line);
            let out = renamed.as_deref().unwrap_or(&line);
            if writer.write_all(out).and_then(|_| writer.flush()).is_err() {
                break;
            }
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::rename_marker;

    #[test]
    fn renames_only_markers() {
        assert_eq!(rename_marker(b"EVCXR_BEGIN_CONTENT text/html\n").unwrap(), b"D2L_KERNEL_BEGIN_CONTENT text/html\n");
        assert_eq!(rename_marker(b"EVCXR_END_CONTENT\n").unwrap(), b"D2L_KERNEL_END_CONTENT\n");
        assert_eq!(rename_marker(b"hello EVCXR_END_CONTENT\n"), None);
        assert_eq!(rename_marker(b"EVCXR_EXECUTION_COMPLETE\n"), None);
    }
}
