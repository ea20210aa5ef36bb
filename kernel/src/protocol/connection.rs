//! The connection file a front end writes before starting a kernel.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::Path;

/// Ports, transport and key of one kernel (Jupyter's connection file).
#[derive(Debug, Clone, Deserialize)]
pub struct ConnectionInfo {
    /// `tcp` or `ipc`.
    pub transport: String,
    /// Address to bind, e.g. `127.0.0.1`.
    pub ip: String,
    /// Shell channel port.
    pub shell_port: u16,
    /// IOPub channel port.
    pub iopub_port: u16,
    /// Stdin channel port.
    pub stdin_port: u16,
    /// Control channel port.
    pub control_port: u16,
    /// Heartbeat port.
    pub hb_port: u16,
    /// HMAC key; empty means unsigned messages.
    #[serde(default)]
    pub key: String,
    /// Signature scheme, `hmac-sha256` (the only one supported).
    #[serde(default = "default_scheme")]
    pub signature_scheme: String,
}

fn default_scheme() -> String {
    "hmac-sha256".to_owned()
}

impl ConnectionInfo {
    /// Reads and checks a connection file.
    pub fn read(path: &Path) -> Result<ConnectionInfo> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading connection file {}", path.display()))?;
        let info: ConnectionInfo = serde_json::from_str(&text)
            .with_context(|| format!("parsing connection file {}", path.display()))?;
        if !info.key.is_empty() && info.signature_scheme != "hmac-sha256" {
            anyhow::bail!(
                "{}: signature scheme {:?} is not supported (use hmac-sha256)",
                path.display(),
                info.signature_scheme
            );
        }
        Ok(info)
    }

    /// The ZeroMQ endpoint of a port.
    pub fn endpoint(&self, port: u16) -> String {
        if self.transport == "ipc" {
            format!("ipc://{}-{port}", self.ip)
        } else {
            format!("{}://{}:{port}", self.transport, self.ip)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_connection_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        std::fs::write(
            &path,
            r#"{"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4,
            "hb_port": 5, "ip": "127.0.0.1", "key": "abc", "transport": "tcp",
            "signature_scheme": "hmac-sha256", "kernel_name": "d2l-rust"}"#,
        )
        .unwrap();
        let info = ConnectionInfo::read(&path).unwrap();
        assert_eq!(info.endpoint(info.control_port), "tcp://127.0.0.1:4");
        assert_eq!(info.key, "abc");
    }

    #[test]
    fn rejects_unknown_scheme() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        std::fs::write(&path, r#"{"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4,
            "hb_port": 5, "ip": "127.0.0.1", "key": "abc", "transport": "tcp", "signature_scheme": "hmac-md5"}"#).unwrap();
        let error = ConnectionInfo::read(&path).unwrap_err().to_string();
        assert!(error.contains("hmac-md5"), "{error}");
    }
}
