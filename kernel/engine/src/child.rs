//! The evaluation process side: the engine's own binary, re-executed by evcxr.
//!
//! evcxr runs cells in a subprocess that is the current executable started again with
//! `EVCXR_IS_RUNTIME` set. [`runtime_hook`] turns such a start into evcxr's runtime loop. Content
//! blocks need no help here: the vendored evcxr forwards them to the engine in order
//! (`EvalContext::set_forward_content_blocks`, patch 4 in `vendor/evcxr/PATCHES.md`).

/// Call first thing in `main` of any binary that uses [`crate::Engine`]: when this process is an
/// evaluation subprocess (or evcxr's rustc wrapper) it never returns.
pub fn runtime_hook() {
    // Only for our engine's subprocesses (it sets D2L_KERNEL=1): a stock evcxr context in the
    // same binary (the benchmark's baseline) keeps evcxr's own behaviour.
    let ours = std::env::var_os(d2l_protocol::KERNEL_ENV).is_some_and(|v| v == "1");
    if ours
        && std::env::var_os(d2l_protocol::EVCXR_ENV).is_some()
        && std::env::var_os("D2L_KERNEL_BACKTRACE").is_none()
    {
        // evcxr asks for full backtraces; a panic message is what a reader needs. Set
        // D2L_KERNEL_BACKTRACE=1 to get them back.
        std::env::set_var("RUST_BACKTRACE", "0");
    }
    evcxr::runtime_hook();
}
