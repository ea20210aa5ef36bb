//! Jupyter messages and their wire form: `[ids…, "<IDS|MSG>", signature, header,
//! parent_header, metadata, content, buffers…]`.

use super::signing::Signer;
use anyhow::{bail, Context, Result};
use bytes::Bytes;
use serde_json::{json, Value};

const DELIMITER: &[u8] = b"<IDS|MSG>";
/// The protocol version this kernel speaks.
pub const PROTOCOL_VERSION: &str = "5.3";

/// One message, with the routing identities it came with.
#[derive(Debug, Clone)]
pub struct Message {
    /// ZeroMQ routing ids (replies go back to them).
    pub identities: Vec<Bytes>,
    /// `msg_id`, `session`, `username`, `date`, `msg_type`, `version`.
    pub header: Value,
    /// The header of the request this answers (or `{}`).
    pub parent_header: Value,
    /// Free-form metadata.
    pub metadata: Value,
    /// The message body.
    pub content: Value,
}

impl Message {
    /// Parses and checks the frames of a received message.
    pub fn from_frames(frames: Vec<Bytes>, signer: &Signer) -> Result<Message> {
        let split = frames
            .iter()
            .position(|f| f.as_ref() == DELIMITER)
            .context("message without the <IDS|MSG> delimiter")?;
        let identities = frames[..split].to_vec();
        let rest = &frames[split + 1..];
        if rest.len() < 5 {
            bail!(
                "message with {} frames after the delimiter, expected at least 5",
                rest.len()
            );
        }
        let signed: Vec<&[u8]> = rest[1..5].iter().map(|f| f.as_ref()).collect();
        if !signer.verify(&rest[0], &signed) {
            bail!("message with a bad signature");
        }
        let parse = |i: usize, what: &str| -> Result<Value> {
            serde_json::from_slice(&rest[i])
                .with_context(|| format!("parsing the {what} of a message"))
        };
        Ok(Message {
            identities,
            header: parse(1, "header")?,
            parent_header: parse(2, "parent header")?,
            metadata: parse(3, "metadata")?,
            content: parse(4, "content")?,
        })
    }

    /// The wire frames of this message, signed.
    pub fn to_frames(&self, signer: &Signer) -> Vec<Bytes> {
        let parts: Vec<Vec<u8>> = [
            &self.header,
            &self.parent_header,
            &self.metadata,
            &self.content,
        ]
        .iter()
        .map(|v| serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec()))
        .collect();
        let signature = signer.sign(&parts.iter().map(Vec::as_slice).collect::<Vec<_>>());
        let mut frames = self.identities.clone();
        frames.push(Bytes::from_static(DELIMITER));
        frames.push(Bytes::from(signature));
        frames.extend(parts.into_iter().map(Bytes::from));
        frames
    }

    /// The message type from the header.
    pub fn msg_type(&self) -> &str {
        self.header["msg_type"].as_str().unwrap_or("")
    }

    /// A new message of `msg_type` whose parent is `self`, sent back to the same peer.
    pub fn reply(&self, msg_type: &str, content: Value) -> Message {
        Message {
            identities: self.identities.clone(),
            ..self.child(msg_type, content)
        }
    }

    /// A new message of `msg_type` whose parent is `self`, with no routing (for IOPub).
    pub fn child(&self, msg_type: &str, content: Value) -> Message {
        let session = self.header["session"].as_str().unwrap_or("");
        Message {
            identities: Vec::new(),
            header: new_header(msg_type, session),
            parent_header: self.header.clone(),
            metadata: json!({}),
            content,
        }
    }
}

/// A fresh header for a message this kernel sends.
pub fn new_header(msg_type: &str, session: &str) -> Value {
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    json!({
        "msg_id": uuid::Uuid::new_v4().to_string(),
        "session": session,
        "username": "kernel",
        "date": date,
        "msg_type": msg_type,
        "version": PROTOCOL_VERSION,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_signed_and_tampered() {
        let signer = Signer::new("secret");
        let request = Message {
            identities: vec![Bytes::from_static(b"peer")],
            header: new_header("execute_request", "s1"),
            parent_header: json!({}),
            metadata: json!({}),
            content: json!({"code": "1 + 1"}),
        };
        let reply = request.reply("execute_reply", json!({"status": "ok"}));
        let frames = reply.to_frames(&signer);
        assert_eq!(frames[0].as_ref(), b"peer");
        let parsed = Message::from_frames(frames.clone(), &signer).unwrap();
        assert_eq!(parsed.msg_type(), "execute_reply");
        assert_eq!(parsed.parent_header["msg_id"], request.header["msg_id"]);
        assert_eq!(parsed.header["session"], "s1");

        let mut tampered = frames;
        let last = tampered.len() - 1;
        tampered[last] = Bytes::from_static(br#"{"status":"error"}"#);
        assert!(Message::from_frames(tampered, &signer).is_err());
    }
}
