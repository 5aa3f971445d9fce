//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw body, keyed by the app secret (reference §4.5).
//! Verification works on the exact received bytes, before any JSON parsing, because Meta
//! escapes non-ASCII as `\uXXXX` and re-serializing would change the hash.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const PREFIX: &str = "sha256=";

fn mac(app_secret: &[u8], body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(app_secret).expect("HMAC takes any key length");
    mac.update(body);
    mac
}

/// The header value Meta would send: `"sha256=<lowercase hex>"`.
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    format!(
        "{PREFIX}{}",
        hex::encode(mac(app_secret, body).finalize().into_bytes())
    )
}

/// Whether `header` is a valid signature of `body`. A missing header, a missing `sha256=`
/// prefix, bad hex or a wrong length all answer `false`. Hex of either case is accepted; the
/// comparison is constant-time.
pub fn verify(app_secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_digest) = header.and_then(|h| h.trim().strip_prefix(PREFIX)) else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_digest) else {
        return false;
    };
    mac(app_secret, body).verify_slice(&expected).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test_app_secret";
    const EMPTY: &[u8] = br#"{"object":"whatsapp_business_account","entry":[]}"#;

    #[test]
    fn reference_vectors() {
        assert_eq!(
            sign(SECRET, EMPTY),
            "sha256=dec6a680679a968e7e0319355b23599cbfc54502c0784668e9618baa0c633756"
        );
        let unicode = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550001111","phone_number_id":"111"},"messages":[{"from":"5511988887777","id":"wamid.X","timestamp":"1733000000","type":"text","text":{"body":"Ol\u00e1"}}]}}]}]}"#;
        assert_eq!(
            sign(SECRET, unicode),
            "sha256=99f4fc0ef6b6e1ae72709fc5ac747b069fc0a00b3e7aa092b93199f3787733b2"
        );
    }

    #[test]
    fn valid_signature_verifies() {
        assert!(verify(SECRET, EMPTY, Some(&sign(SECRET, EMPTY))));
    }

    #[test]
    fn uppercase_hex_is_accepted() {
        let header = sign(SECRET, EMPTY);
        let upper = format!("sha256={}", header[PREFIX.len()..].to_uppercase());
        assert!(verify(SECRET, EMPTY, Some(&upper)));
    }

    #[test]
    fn tampered_or_foreign_signatures_fail() {
        let header = sign(SECRET, EMPTY);
        let mut flipped = EMPTY.to_vec();
        flipped[3] ^= 1;
        assert!(!verify(SECRET, &flipped, Some(&header)));
        assert!(!verify(b"other_secret", EMPTY, Some(&header)));
    }

    #[test]
    fn garbled_headers_fail() {
        let header = sign(SECRET, EMPTY);
        let bare = &header[PREFIX.len()..];
        assert!(!verify(SECRET, EMPTY, None));
        assert!(!verify(SECRET, EMPTY, Some("")));
        assert!(!verify(SECRET, EMPTY, Some("sha256=")));
        assert!(!verify(SECRET, EMPTY, Some(bare)));
        assert!(!verify(SECRET, EMPTY, Some(&format!("sha1={bare}"))));
        assert!(!verify(SECRET, EMPTY, Some("sha256=zz")));
        assert!(!verify(SECRET, EMPTY, Some(&header[..header.len() - 2])));
    }
}
