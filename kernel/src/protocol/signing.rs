//! HMAC-SHA256 message signatures (none when the key is empty).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Signs and checks the four signed frames of a message.
#[derive(Clone)]
pub struct Signer {
    key: Option<Hmac<Sha256>>,
}

impl Signer {
    /// A signer for `key`; an empty key turns signing off.
    pub fn new(key: &str) -> Signer {
        let key = (!key.is_empty()).then(|| {
            Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC accepts keys of any length")
        });
        Signer { key }
    }

    /// The hex signature of header, parent header, metadata and content ("" when unsigned).
    pub fn sign(&self, frames: &[&[u8]]) -> String {
        match &self.key {
            None => String::new(),
            Some(mac) => {
                let mut mac = mac.clone();
                for frame in frames {
                    mac.update(frame);
                }
                hex::encode(mac.finalize().into_bytes())
            }
        }
    }

    /// Whether `signature` is right for `frames` (in constant time); always true when unsigned.
    pub fn verify(&self, signature: &[u8], frames: &[&[u8]]) -> bool {
        match &self.key {
            None => true,
            Some(mac) => {
                let Ok(expected) = hex::decode(signature) else {
                    return false;
                };
                let mut mac = mac.clone();
                for frame in frames {
                    mac.update(frame);
                }
                mac.verify_slice(&expected).is_ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Signer;

    #[test]
    fn known_hmac_sha256_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let signer = Signer::new("Jefe");
        let sig = signer.sign(&[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            sig,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(signer.verify(sig.as_bytes(), &[b"what do ya want for nothing?"]));
        assert!(!signer.verify(sig.as_bytes(), &[b"what do ya want for something?"]));
    }

    #[test]
    fn empty_key_means_no_signature() {
        let signer = Signer::new("");
        assert_eq!(signer.sign(&[b"x"]), "");
        assert!(signer.verify(b"", &[b"x"]));
    }
}
