//! # d2l-kernel — a Jupyter kernel for Rust with `d2l` preloaded
//!
//! Two layers with one direction of dependency:
//!
//! - [`engine`]: the `d2l-engine` crate (in `kernel/engine/`): evcxr plus the `d2l` prelude,
//!   the display protocol read back, readable errors and a persistent build cache. No Jupyter
//!   types; the book builder evaluates notebooks with it directly, without this crate.
//! - [`protocol`]: the Jupyter messaging protocol 5.3 over ZeroMQ (connection file, signing,
//!   messages, sockets, request dispatch) and the kernelspec installer.
//!
//! Every binary that creates an [`engine::Engine`] must call [`runtime_hook`] first thing in
//! `main`: evcxr re-executes the current binary as its evaluation subprocess.

pub mod protocol;

pub use d2l_engine as engine;
pub use d2l_engine::runtime_hook;
