//! Random identifiers shaped like Meta's.

use rand::distributions::Alphanumeric;
use rand::Rng;

fn random(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A message id like `wamid.HBgLNTUxMTk4ODg4Nzc3NxUCABEYEj…==`.
pub(crate) fn wamid() -> String {
    format!("wamid.HBgL{}AA==", random(40))
}

/// A Graph trace id like `A4O5a8RAgePwbcGSu`.
pub(crate) fn fbtrace_id() -> String {
    random(17)
}

#[cfg(test)]
mod tests {
    #[test]
    fn wamids_are_unique_and_prefixed() {
        let a = super::wamid();
        let b = super::wamid();
        assert!(a.starts_with("wamid."));
        assert_ne!(a, b);
    }
}
