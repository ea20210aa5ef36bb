// d2l-rs patch 5 (see PATCHES.md): a cell's stdin is not evcxr's command pipe.
//
// Stock evcxr's evaluation process reads its commands (`LOAD_AND_RUN`) from fd 0, which is
// also the cell's `std::io::stdin()`: a cell that reads stdin waits forever for a line that
// only evcxr could send. Here the commands move to a copy of fd 0 and fd 0 becomes a pipe that
// this module fills. On Linux a watcher notices a thread of this process blocked in `read` on
// fd 0 while a cell runs (`/proc/self/task/*/syscall`) and asks the host through evcxr's own
// input request (`EVCXR_INPUT_REQUEST:`, as `evcxr_input::get_string` does); the host's answer
// is the line the read gets, and [`STDIN_EOF`] closes the pipe: the read gets end of file.
// Elsewhere fd 0 is `/dev/null`.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::io::FromRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The answer to an input request that ends the cell's stdin (the read gets end of file).
pub const STDIN_EOF: &str = "\u{4}EVCXR_STDIN_EOF";

/// The state shared by the command relay, the watcher and the runtime loop.
#[derive(Default)]
pub(crate) struct CellStdin {
    /// The write end of the pipe that is fd 0.
    writer: Mutex<Option<File>>,
    /// A cell runs (between `LOAD_AND_RUN` and its completion).
    running: AtomicBool,
    /// An input request is waiting for the host's answer.
    asked: AtomicBool,
}

impl CellStdin {
    /// Moves the commands off fd 0; returns the command lines and the shared state.
    pub(crate) fn take_over() -> (std::sync::mpsc::Receiver<String>, Arc<CellStdin>) {
        let (sender, commands) = std::sync::mpsc::channel();
        let state = Arc::new(CellStdin::default());
        // SAFETY: plain descriptor calls; fd 0 is open (evcxr's command pipe).
        let command_fd = unsafe { libc::fcntl(0, libc::F_DUPFD_CLOEXEC, 3) };
        if command_fd < 0 {
            // Keep stock behaviour: read commands from stdin.
            std::thread::spawn(move || {
                for line in std::io::stdin().lock().lines().map_while(Result::ok) {
                    let _ = sender.send(line);
                }
            });
            return (commands, state);
        }
        state.new_pipe();
        let relay = state.clone();
        std::thread::spawn(move || {
            // SAFETY: `command_fd` is ours alone.
            let input = BufReader::new(unsafe { File::from_raw_fd(command_fd) });
            for line in input.lines().map_while(Result::ok) {
                if line.starts_with("LOAD_AND_RUN ") {
                    relay.running.store(true, Ordering::SeqCst);
                    if sender.send(line).is_err() {
                        break;
                    }
                } else {
                    relay.answer(&line);
                }
            }
        });
        #[cfg(target_os = "linux")]
        {
            let watcher = state.clone();
            std::thread::spawn(move || watcher.watch());
        }
        (commands, state)
    }

    /// The cell has finished.
    pub(crate) fn cell_done(&self) {
        self.running.store(false, Ordering::SeqCst);
    }

    /// Makes fd 0 a fresh pipe (Linux) or `/dev/null` (elsewhere).
    fn new_pipe(&self) {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if cfg!(target_os = "linux") {
            let mut fds = [0; 2];
            // SAFETY: `fds` has room for the two descriptors.
            if unsafe { libc::pipe(fds.as_mut_ptr()) } == 0 {
                unsafe {
                    libc::dup2(fds[0], 0);
                    libc::close(fds[0]);
                    libc::fcntl(fds[1], libc::F_SETFD, libc::FD_CLOEXEC);
                }
                *writer = Some(unsafe { File::from_raw_fd(fds[1]) });
                return;
            }
        }
        if let Ok(null) = File::open("/dev/null") {
            use std::os::unix::io::AsRawFd;
            unsafe { libc::dup2(null.as_raw_fd(), 0) };
        }
        *writer = None;
    }

    /// The host answered an input request: a line for the cell, or end of file.
    fn answer(&self, line: &str) {
        if line == STDIN_EOF {
            // Closing the write end gives the waiting read end of file; later reads get a new
            // pipe, and ask again.
            self.new_pipe();
        } else if let Some(writer) = self.writer.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            let _ = writeln!(writer, "{line}");
        }
        self.asked.store(false, Ordering::SeqCst);
    }

    /// Asks the host for input whenever a running cell waits in `read` on an empty fd 0.
    #[cfg(target_os = "linux")]
    fn watch(&self) {
        loop {
            std::thread::sleep(std::time::Duration::from_millis(30));
            if !self.running.load(Ordering::SeqCst) || self.asked.load(Ordering::SeqCst) {
                continue;
            }
            if stdin_is_empty() && reader_waiting() {
                self.asked.store(true, Ordering::SeqCst);
                let mut stdout = std::io::stdout().lock();
                let _ = writeln!(stdout, "{}:", evcxr_input::GET_CMD);
                let _ = stdout.flush();
            }
        }
    }
}

/// No unread bytes in the pipe that is fd 0.
#[cfg(target_os = "linux")]
fn stdin_is_empty() -> bool {
    let mut pending: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int.
    unsafe { libc::ioctl(0, libc::FIONREAD, &mut pending as *mut libc::c_int) == 0 && pending == 0 }
}

/// Some thread of this process is blocked in `read(0, …)`.
#[cfg(target_os = "linux")]
fn reader_waiting() -> bool {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return false };
    let read = libc::SYS_read.to_string();
    tasks.flatten().any(|task| {
        std::fs::read_to_string(task.path().join("syscall")).is_ok_and(|call| {
            let mut fields = call.split_whitespace();
            fields.next() == Some(read.as_str()) && fields.next() == Some("0x0")
        })
    })
}
