//! Identifiers and secrets minted by the service.

use std::time::{SystemTime, UNIX_EPOCH};

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

/// A new id with a readable prefix, then the time it was made (unix milliseconds, 12 hex
/// digits) and 64 random bits (`inv_…`, `evt_…`, `msg_…`). Ids made one after another sort
/// together, so the indexes on them grow at their end, where the pages are in memory; with
/// random ids each insert touched a random page of an index larger than the cache, and
/// throughput fell as the database grew (issue 11). Ids are not secrets: a survey link
/// carries a [`survey_token`].
pub(crate) fn new_id(prefix: &str) -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis());
    let mut random = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut random);
    format!(
        "{prefix}_{:012x}{}",
        millis & 0xffff_ffff_ffff,
        hex::encode(random)
    )
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
    fn ids_carry_their_prefix_and_sort_by_the_time_they_were_made() {
        let first = new_id("inv");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = new_id("inv");
        assert!(first.starts_with("inv_"));
        assert_eq!(first.len(), 4 + 12 + 16);
        assert!(first < second, "{first} sorts after {second}");
        assert_ne!(new_id("evt"), new_id("evt"));
    }
}
