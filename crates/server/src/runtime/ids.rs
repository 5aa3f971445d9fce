//! Identifiers and secrets minted by the service.

use rand::RngCore;

/// A survey-link token: 128 bits from the OS-seeded CSPRNG, hex encoded (32 chars).
pub(crate) fn survey_token() -> String {
    secret_hex(16)
}

/// `bytes` random bytes from the OS-seeded CSPRNG, hex encoded (API tokens use 32).
pub(crate) fn secret_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buffer);
    hex::encode(buffer)
}

/// A new id with a readable prefix and 96 random bits (`inv_…`, `evt_…`, `msg_…`).
pub(crate) fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}_{}", hex::encode(bytes))
}

/// A uniform random number in [0, 1), for retry jitter.
pub(crate) fn unit_random() -> f64 {
    rand::random::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_128_bit_and_distinct() {
        let a = survey_token();
        let b = survey_token();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn ids_carry_their_prefix() {
        assert!(new_id("inv").starts_with("inv_"));
        assert_eq!(new_id("evt").len(), 4 + 24);
    }
}
