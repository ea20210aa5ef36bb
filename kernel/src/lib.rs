//! # d2l-kernel — a Jupyter kernel for Rust with `d2l` preloaded
//!
//! Two layers with one direction of dependency:
//!
//! - [`engine`]: evcxr plus the `d2l` prelude, the display protocol
//!   (`docs/display-protocol.md`), readable errors and a persistent build cache. No Jupyter
//!   types; the book builder evaluates notebooks with it.
//! - [`protocol`]: the Jupyter messaging protocol 5.3 over ZeroMQ (connection file, signing,
//!   messages, sockets, request dispatch) and the kernelspec installer.
//!
//! Every binary that creates an [`engine::Engine`] must call [`runtime_hook`] first thing in
//! `main`: evcxr re-executes the current binary as its evaluation subprocess.

pub mod engine;
pub mod protocol;

pub use engine::child::runtime_hook;
