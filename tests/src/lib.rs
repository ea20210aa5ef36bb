//! End-to-end tests that cross crates. The Rust ones are in `tests/tests/` (for example
//! `external_crate.rs`: a crate of a user's own, outside the workspace, that depends on `d2l`);
//! the ones that drive real Jupyter clients and browsers are in `tests/python/`.
