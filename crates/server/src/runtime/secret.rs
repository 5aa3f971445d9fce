//! Secrets at rest (SPEC §7): the access tokens, app secrets and verify tokens written
//! through the API are stored sealed with XChaCha20-Poly1305 under the key in
//! `CLOSELOOP_SECRET_KEY`, as the text `sealed:v1:<base64(nonce ‖ ciphertext)>`.
//!
//! The nonce is 24 random bytes per value (XChaCha's nonce is long enough that random
//! nonces never collide in practice, so no counter has to be kept across processes). The
//! associated data binds the object kind, its id and the field: a sealed value copied to
//! another account or field does not open.
//!
//! A secret equal to the config file's own value for the same object is not stored at all:
//! the file keeps it, and the object follows the file for it (so patching another field of
//! a file account works without a key).

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use closeloop_domain::config::document::{self, Kind};
use closeloop_store::{Store, StoreError};
use rand::RngCore;
use serde_json::Value;

use crate::runtime::live::CONFIG_LOCK;

/// The environment variable holding the key.
pub const KEY_VARIABLE: &str = "CLOSELOOP_SECRET_KEY";

/// The environment variable `rotate-key` reads the new key from.
pub const NEW_KEY_VARIABLE: &str = "CLOSELOOP_NEW_SECRET_KEY";

/// What a sealed value starts with (the format's version is part of it).
const PREFIX: &str = "sealed:v1:";

/// XChaCha20's nonce length.
const NONCE_LEN: usize = 24;

/// The key secrets are sealed with: 32 bytes, given as 64 hex characters.
#[derive(Clone)]
pub struct SecretKey(chacha20poly1305::Key);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

/// Why a key was refused (the message never repeats the key).
#[derive(Debug, thiserror::Error)]
#[error("a secret key is 32 bytes written as 64 hex characters (e.g. from `openssl rand -hex 32`); this one is {0}")]
pub struct BadKey(&'static str);

impl FromStr for SecretKey {
    type Err = BadKey;

    fn from_str(text: &str) -> Result<SecretKey, BadKey> {
        let text = text.trim();
        if text.len() != 64 {
            return Err(BadKey(if text.is_empty() {
                "empty"
            } else {
                "not 64 characters long"
            }));
        }
        let bytes = hex::decode(text).map_err(|_| BadKey("not hexadecimal"))?;
        Ok(SecretKey(*chacha20poly1305::Key::from_slice(&bytes)))
    }
}

/// Why a stored secret could not be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SecretError {
    /// A secret is to be stored, or a sealed one read, and no key is set.
    #[error("{kind} {id:?} has a secret ({field}) to keep sealed, and {KEY_VARIABLE} is not set: set it to 32 random bytes as 64 hex characters")]
    KeyMissing {
        /// Document key of the object.
        kind: &'static str,
        /// Object id.
        id: String,
        /// The secret field.
        field: &'static str,
    },
    /// A sealed value does not open with the key (another key sealed it, or it was
    /// altered or moved).
    #[error("the stored secret {field} of {kind} {id:?} does not open with {KEY_VARIABLE}: it was sealed with another key (use the key it was sealed with, or `closeloop rotate-key`)")]
    WrongKey {
        /// Document key of the object.
        kind: &'static str,
        /// Object id.
        id: String,
        /// The secret field.
        field: &'static str,
    },
}

/// The associated data of a secret: what it belongs to.
fn aad(kind: Kind, id: &str, field: &str) -> Vec<u8> {
    format!("closeloop secret v1\0{}\0{id}\0{field}", kind.key()).into_bytes()
}

impl SecretKey {
    /// `plain` sealed for `field` of the object `kind`/`id`.
    fn seal(&self, kind: Kind, id: &str, field: &str, plain: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = aad(kind, id, field);
        let payload = Payload {
            msg: plain.as_bytes(),
            aad: &aad,
        };
        let sealed = XChaCha20Poly1305::new(&self.0)
            .encrypt(XNonce::from_slice(&nonce), payload)
            .expect("XChaCha20-Poly1305 seals any text shorter than 256 GiB");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}", STANDARD.encode(out))
    }

    /// The plain text of a sealed value, when this key sealed it for this place.
    fn open(&self, kind: Kind, id: &str, field: &str, sealed: &str) -> Option<String> {
        let bytes = STANDARD.decode(sealed.strip_prefix(PREFIX)?).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let aad = aad(kind, id, field);
        let payload = Payload {
            msg: ciphertext,
            aad: &aad,
        };
        let plain = XChaCha20Poly1305::new(&self.0)
            .decrypt(XNonce::from_slice(nonce), payload)
            .ok()?;
        String::from_utf8(plain).ok()
    }
}

/// Whether a stored value is sealed.
fn is_sealed(value: &str) -> bool {
    value.starts_with(PREFIX)
}

/// The stored form of an object written through the API: each secret sealed, or left
/// out when it is the file's own value for that object (`file_item`).
///
/// # Errors
/// [`SecretError::KeyMissing`] when a secret is to be sealed and there is no key.
pub(crate) fn seal_object(
    key: Option<&SecretKey>,
    kind: Kind,
    item: &Value,
    file_item: Option<&Value>,
) -> Result<Value, SecretError> {
    let mut out = item.clone();
    let id = document::id_of(item).unwrap_or_default().to_owned();
    let Some(map) = out.as_object_mut() else {
        return Ok(out);
    };
    for field in kind.secret_fields() {
        let Some(Value::String(plain)) = map.get(*field) else {
            continue;
        };
        if file_item.and_then(|f| f.get(*field)) == map.get(*field) {
            map.remove(*field);
            continue;
        }
        let Some(key) = key else {
            return Err(SecretError::KeyMissing {
                kind: kind.key(),
                id,
                field,
            });
        };
        let sealed = key.seal(kind, &id, field, plain);
        map.insert((*field).to_owned(), Value::String(sealed));
    }
    Ok(out)
}

/// An object as stored, made ready to use: sealed secrets opened, and secrets left out
/// because they were the file's taken from `file_item`.
///
/// # Errors
/// When a sealed secret is stored and there is no key, or it does not open with it.
pub(crate) fn open_object(
    key: Option<&SecretKey>,
    kind: Kind,
    item: &mut Value,
    file_item: Option<&Value>,
) -> Result<(), SecretError> {
    if let Some(file_item) = file_item {
        document::keep_secrets(kind, file_item, item);
    }
    let id = document::id_of(item).unwrap_or_default().to_owned();
    let Some(map) = item.as_object_mut() else {
        return Ok(());
    };
    for field in kind.secret_fields() {
        let Some(Value::String(stored)) = map.get(*field) else {
            continue;
        };
        if !is_sealed(stored) {
            continue;
        }
        let key = key.ok_or_else(|| SecretError::KeyMissing {
            kind: kind.key(),
            id: id.clone(),
            field,
        })?;
        let plain = key
            .open(kind, &id, field, stored)
            .ok_or_else(|| SecretError::WrongKey {
                kind: kind.key(),
                id: id.clone(),
                field,
            })?;
        map.insert((*field).to_owned(), Value::String(plain));
    }
    Ok(())
}

/// Why `rotate-key` stopped (nothing was changed).
#[derive(Debug, thiserror::Error)]
pub(crate) enum RotateError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored secret does not open with the old key, or there is none.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The secrets were sealed with the new key, and compacting the database failed.
    #[error("the secrets were sealed with the new key, but compacting the database failed ({0}), so old ciphertexts may remain in its files: run rotate-key again with both variables set to the new key")]
    Compact(StoreError),
    /// A stored change is not a JSON object.
    #[error("the stored change to {kind} {id:?} is not valid JSON: {error}")]
    Corrupt {
        /// Document key.
        kind: String,
        /// Object id.
        id: String,
        /// Parse error.
        error: serde_json::Error,
    },
}

/// Re-seals every stored secret with `new` in one transaction (secrets an older version
/// stored in plain text are sealed too), then compacts the database so the old
/// ciphertexts do not linger in free pages or the log. Returns how many secrets were
/// sealed.
///
/// # Errors
/// When a sealed secret does not open with `old` (nothing is changed then), or the
/// database fails.
pub(crate) async fn rotate(
    store: &Store,
    old: Option<&SecretKey>,
    new: &SecretKey,
) -> Result<usize, RotateError> {
    let mut tx = store.begin().await?;
    tx.lock(&[CONFIG_LOCK]).await?;
    let mut sealed = 0;
    for change in tx.config_changes().await? {
        let (Some(kind), Some(body)) = (Kind::from_key(&change.kind), change.body.as_deref())
        else {
            continue;
        };
        if kind.secret_fields().is_empty() {
            continue;
        }
        let mut item: Value = serde_json::from_str(body).map_err(|error| RotateError::Corrupt {
            kind: change.kind.clone(),
            id: change.id.clone(),
            error,
        })?;
        open_object(old, kind, &mut item, None)?;
        let count = kind
            .secret_fields()
            .iter()
            .filter(|f| item.get(**f).is_some_and(Value::is_string))
            .count();
        if count == 0 {
            continue;
        }
        let resealed = seal_object(Some(new), kind, &item, None)?;
        tx.rewrite_config_change(&change.kind, &change.id, &resealed.to_string())
            .await?;
        sealed += count;
    }
    tx.commit().await?;
    store.compact().await.map_err(RotateError::Compact)?;
    Ok(sealed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(byte: u8) -> SecretKey {
        hex::encode([byte; 32]).parse().unwrap()
    }

    #[test]
    fn keys_are_64_hex_characters() {
        assert!("ab".repeat(32).parse::<SecretKey>().is_ok());
        for bad in ["", "ab", &"zz".repeat(32), &"ab".repeat(33)] {
            let error = bad.parse::<SecretKey>().unwrap_err().to_string();
            assert!(error.contains("64 hex"), "{error}");
            assert!(bad.is_empty() || !error.contains(bad), "{error}");
        }
    }

    #[test]
    fn a_sealed_secret_opens_only_in_its_place_with_its_key() {
        let item = json!({"id": "wa", "access_token": "tok-123", "api_base": "x"});
        let stored = seal_object(Some(&key(1)), Kind::Accounts, &item, None).unwrap();
        let text = stored.to_string();
        assert!(!text.contains("tok-123") && text.contains(PREFIX), "{text}");

        let mut opened = stored.clone();
        open_object(Some(&key(1)), Kind::Accounts, &mut opened, None).unwrap();
        assert_eq!(opened, item);

        let mut other_key = stored.clone();
        let wrong = open_object(Some(&key(2)), Kind::Accounts, &mut other_key, None);
        assert!(matches!(wrong, Err(SecretError::WrongKey { .. })));

        let mut moved = stored.clone();
        moved["id"] = json!("other");
        let wrong = open_object(Some(&key(1)), Kind::Accounts, &mut moved, None);
        assert!(matches!(wrong, Err(SecretError::WrongKey { .. })));

        let mut no_key = stored;
        let missing = open_object(None, Kind::Accounts, &mut no_key, None);
        assert!(matches!(missing, Err(SecretError::KeyMissing { .. })));
    }

    #[test]
    fn the_files_own_secret_is_left_to_the_file() {
        let file = json!({"id": "wa", "access_token": "from-file", "api_base": "x"});
        let patched = json!({"id": "wa", "access_token": "from-file", "api_base": "y"});
        let stored = seal_object(None, Kind::Accounts, &patched, Some(&file)).unwrap();
        assert_eq!(stored, json!({"id": "wa", "api_base": "y"}));
        let mut opened = stored;
        open_object(None, Kind::Accounts, &mut opened, Some(&file)).unwrap();
        assert_eq!(opened, patched);

        let changed = json!({"id": "wa", "access_token": "new", "api_base": "y"});
        let missing = seal_object(None, Kind::Accounts, &changed, Some(&file));
        assert!(matches!(missing, Err(SecretError::KeyMissing { .. })));
    }
}
