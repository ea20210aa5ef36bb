//! The Jupyter side: messaging protocol 5.3 over ZeroMQ, and the kernelspec.
//!
//! One job per module: [`connection`] reads the connection file, [`signing`] signs,
//! [`message`] frames messages, [`server`] owns the sockets, [`dispatch`] answers requests,
//! [`history`] keeps the session's inputs, [`install`] writes the kernelspec.

pub mod connection;
pub mod dispatch;
pub mod history;
pub mod install;
pub mod message;
pub mod server;
pub mod signing;
