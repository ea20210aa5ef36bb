//! The evaluation subprocess side: the kernel binary re-executed by evcxr.
//!
//! evcxr reads content blocks out of its subprocess's stdout itself and merges them, by MIME
//! type, into one result at the end of the cell. That loses order, repeats and live updates.
//! So before handing control to evcxr's runtime loop, the subprocess puts a [`BundleFilter`]
//! between its stdout and the pipe to the kernel: the markers of bundles written during a cell
//! are renamed (`EVCXR_BEGIN_CONTENT` → `D2L_KERNEL_BEGIN_CONTENT`, likewise for the end
//! marker), evcxr forwards them as ordinary lines, and the engine's [`crate::engine::display`]
//! parser sees every bundle in order, as it is written. The bundle that ends a cell (a final
//! expression's value) is left to evcxr, which returns it as the cell's result.

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

/// The line evcxr's runtime writes when a cell has finished.
const EXECUTION_COMPLETE: &[u8] = b"EVCXR_EXECUTION_COMPLETE";
const BEGIN: &[u8] = b"EVCXR_BEGIN_CONTENT ";
const END: &[u8] = b"EVCXR_END_CONTENT";

/// Decides, bundle by bundle, which content blocks evcxr should see.
///
/// A bundle that ends the cell's output (the next line is evcxr's end-of-cell line) and is
/// not a d2l display keeps evcxr's markers: evcxr collects it as the cell's result. Every other
/// bundle gets renamed markers, so evcxr forwards it to the engine in order. A d2l bundle is
/// released as soon as its closing block ends (live updates); other bundles when the next
/// line arrives.
#[derive(Debug, Default)]
pub struct BundleFilter {
    pending: Vec<Vec<u8>>,
    in_block: bool,
    block_is_d2l: bool,
}

impl BundleFilter {
    /// Takes one line (with its newline) and returns the lines to write now.
    pub fn line(&mut self, line: &[u8]) -> Vec<Vec<u8>> {
        let bare = trim_newline(line);
        if self.in_block {
            self.pending.push(line.to_vec());
            if bare == END {
                self.in_block = false;
                if self.block_is_d2l {
                    return self.release(true);
                }
            }
            return Vec::new();
        }
        if let Some(mime) = bare.strip_prefix(BEGIN) {
            self.in_block = true;
            self.block_is_d2l = mime.trim_ascii() == super::display::D2L_DISPLAY_MIME.as_bytes();
            self.pending.push(line.to_vec());
            return Vec::new();
        }
        let mut out = self.release(bare != EXECUTION_COMPLETE);
        out.push(line.to_vec());
        out
    }

    fn release(&mut self, rename: bool) -> Vec<Vec<u8>> {
        let lines = std::mem::take(&mut self.pending);
        if !rename {
            return lines;
        }
        lines.into_iter().map(|l| rename_marker(&l).unwrap_or(l)).collect()
    }
}

fn trim_newline(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Renames one line's content-block marker, if it has one.
pub fn rename_marker(line: &[u8]) -> Option<Vec<u8>> {
    const PAIRS: [(&[u8], &[u8]); 2] = [
        (BEGIN, b"D2L_KERNEL_BEGIN_CONTENT "),
        (END, b"D2L_KERNEL_END_CONTENT"),
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
        let mut filter = BundleFilter::default();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let mut failed = false;
            for out in filter.line(&line) {
                failed |= writer.write_all(&out).is_err();
            }
            if failed || writer.flush().is_err() {
                break;
            }
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{rename_marker, BundleFilter};

    fn run(filter: &mut BundleFilter, text: &str) -> String {
        let mut out = Vec::new();
        for line in text.split_inclusive('\n') {
            for l in filter.line(line.as_bytes()) {
                out.extend(l);
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn final_bundle_stays_with_evcxr() {
        let text = "hi\nEVCXR_BEGIN_CONTENT text/plain\n42\nEVCXR_END_CONTENT\nEVCXR_EXECUTION_COMPLETE\n";
        assert_eq!(run(&mut BundleFilter::default(), text), text);
    }

    #[test]
    fn mid_cell_bundle_is_renamed_when_next_line_arrives() {
        let mut f = BundleFilter::default();
        assert_eq!(run(&mut f, "EVCXR_BEGIN_CONTENT text/html\n<b>x</b>\nEVCXR_END_CONTENT\n"), "");
        assert_eq!(
            run(&mut f, "after\n"),
            "D2L_KERNEL_BEGIN_CONTENT text/html\n<b>x</b>\nD2L_KERNEL_END_CONTENT\nafter\n"
        );
    }

    #[test]
    fn d2l_bundle_is_released_at_once_even_at_cell_end() {
        let mut f = BundleFilter::default();
        let out = run(&mut f, "EVCXR_BEGIN_CONTENT image/svg+xml\n<svg/>\nEVCXR_END_CONTENT\n\
            EVCXR_BEGIN_CONTENT application/vnd.d2l.display+json\n{}\nEVCXR_END_CONTENT\n");
        assert_eq!(out.matches("D2L_KERNEL_BEGIN_CONTENT").count(), 2);
        assert!(!out.contains("EVCXR_BEGIN_CONTENT"));
        assert_eq!(run(&mut f, "EVCXR_EXECUTION_COMPLETE\n"), "EVCXR_EXECUTION_COMPLETE\n");
    }

    #[test]
    fn renames_only_markers() {
        assert_eq!(rename_marker(b"EVCXR_BEGIN_CONTENT text/html\n").unwrap(), b"D2L_KERNEL_BEGIN_CONTENT text/html\n");
        assert_eq!(rename_marker(b"EVCXR_END_CONTENT\n").unwrap(), b"D2L_KERNEL_END_CONTENT\n");
        assert_eq!(rename_marker(b"hello EVCXR_END_CONTENT\n"), None);
        assert_eq!(rename_marker(b"EVCXR_EXECUTION_COMPLETE\n"), None);
    }
}
