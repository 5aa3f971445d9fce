//! Error classification: what the sender should do after a failed send (SPEC §4.11, reference
//! §2.2). The decision is made on `error.code`; the HTTP status only breaks ties for codes we
//! do not know or answers without a code, because Meta's table revisions disagree on statuses.

use crate::client::SendError;

/// What to do about a failed send.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// Transient: retry with backoff and jitter, bounded.
    Retryable,
    /// Pair rate limit (131056): retry later for that recipient only; others go on.
    RecipientThrottled,
    /// Fix the request or give up on this message; retrying cannot help.
    Permanent,
    /// Auth, permission or account restriction: stop sending on the whole account.
    Account,
    /// The user stopped marketing messages (131050): record an opt-out.
    OptOut,
}

/// Class of a code in the reference table, or `None` for codes the table does not list.
pub fn known_code(code: i64) -> Option<ErrorClass> {
    use ErrorClass::*;
    let class = match code {
        // 1 is "API Unknown": the reference allows one retry; the caller's bound keeps it small.
        1 | 2 | 4 | 80007 | 130429 | 131000 | 131016 | 131057 | 133004 => Retryable,
        // Flow throttled clears by itself ("later").
        132069 => Retryable,
        131056 => RecipientThrottled,
        // Auth and permission: every later send on the account would fail the same way.
        0 | 190 | 3 | 10 | 200..=299 | 131005 => Account,
        // Account or number restrictions, spam limits and billing/registration problems.
        368 | 131031 | 131048 | 131037 | 131042 | 131045 | 133010 => Account,
        131050 => OptOut,
        // 131049 (per-user marketing limit) is not retry-now and not an opt-out: the reference
        // says "hours to days or not at all", which for a survey invite means give up.
        33 | 100 | 130472 | 130497 | 131008 | 131009 | 131021 | 131026 | 131030 | 131047
        | 131049 | 131051 | 131052 | 131053 | 132000 | 132001 | 132005 | 132007 | 132008
        | 132012 | 132015 | 132016 | 132068 | 135000 => Permanent,
        _ => return None,
    };
    Some(class)
}

/// Class of an error code; codes the reference does not list are [`ErrorClass::Permanent`].
pub fn classify_code(code: i64) -> ErrorClass {
    known_code(code).unwrap_or(ErrorClass::Permanent)
}

/// Class of a send error. Known codes decide alone; an unknown or absent code falls back on the
/// HTTP status (5xx and 429 are transient); no answer at all is transient.
pub fn classify(err: &SendError) -> ErrorClass {
    match err {
        SendError::Api {
            http_status, code, ..
        } => match code.and_then(known_code) {
            Some(class) => class,
            None if *http_status >= 500 || *http_status == 429 => ErrorClass::Retryable,
            None => ErrorClass::Permanent,
        },
        SendError::Network(_) => ErrorClass::Retryable,
        // A 2xx without a wamid is most likely a truncated answer; the retry may duplicate,
        // which the caller accepts in exchange for not losing the message.
        SendError::Malformed(_) => ErrorClass::Retryable,
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorClass::*;
    use super::*;

    /// Every row of reference §2.2, with the class we give it.
    const TABLE: &[(i64, ErrorClass)] = &[
        (0, Account),
        (190, Account),
        (3, Account),
        (10, Account),
        (200, Account),
        (250, Account),
        (299, Account),
        (4, Retryable),
        (80007, Retryable),
        (130429, Retryable),
        (131048, Account),
        (131056, RecipientThrottled),
        (368, Account),
        (131031, Account),
        (130497, Permanent),
        (1, Retryable),
        (2, Retryable),
        (33, Permanent),
        (100, Permanent),
        (130472, Permanent),
        (131000, Retryable),
        (131005, Account),
        (131008, Permanent),
        (131009, Permanent),
        (131016, Retryable),
        (131021, Permanent),
        (131026, Permanent),
        (131030, Permanent),
        (131037, Account),
        (131042, Account),
        (131045, Account),
        (131047, Permanent),
        (131049, Permanent),
        (131050, OptOut),
        (131051, Permanent),
        (131052, Permanent),
        (131053, Permanent),
        (131057, Retryable),
        (132000, Permanent),
        (132001, Permanent),
        (132005, Permanent),
        (132007, Permanent),
        (132008, Permanent),
        (132012, Permanent),
        (132015, Permanent),
        (132016, Permanent),
        (132068, Permanent),
        (132069, Retryable),
        (133010, Account),
        (133004, Retryable),
        (135000, Permanent),
    ];

    #[test]
    fn reference_table() {
        for &(code, class) in TABLE {
            assert_eq!(classify_code(code), class, "code {code}");
            assert!(known_code(code).is_some(), "code {code} should be known");
        }
    }

    #[test]
    fn spec_lists_agree() {
        for code in [2, 4, 80007, 130429, 131000, 131016, 131057, 133004] {
            assert_eq!(classify_code(code), Retryable, "code {code}");
        }
        for code in [
            100, 131008, 131009, 131026, 131047, 131051, 132000, 132001, 132012, 132015, 132016,
        ] {
            assert_eq!(classify_code(code), Permanent, "code {code}");
        }
        for code in [0, 190, 10, 368, 131031, 131048] {
            assert_eq!(classify_code(code), Account, "code {code}");
        }
    }

    fn api(http_status: u16, code: Option<i64>) -> SendError {
        SendError::Api {
            http_status,
            code,
            title: String::new(),
            details: None,
            fbtrace_id: None,
            retry_after: None,
        }
    }

    #[test]
    fn code_wins_over_http_status() {
        // Throttling codes are 429 in new table revisions and 400 in old ones.
        assert_eq!(classify(&api(400, Some(131056))), RecipientThrottled);
        assert_eq!(classify(&api(429, Some(131056))), RecipientThrottled);
        assert_eq!(classify(&api(400, Some(130429))), Retryable);
        // 3 is listed with HTTP 500 yet is a permission problem.
        assert_eq!(classify(&api(500, Some(3))), Account);
        assert_eq!(classify(&api(500, Some(132001))), Permanent);
    }

    #[test]
    fn unknown_or_absent_code_falls_back_on_status() {
        assert_eq!(classify_code(999_999), Permanent);
        assert_eq!(classify(&api(400, Some(999_999))), Permanent);
        assert_eq!(classify(&api(503, Some(999_999))), Retryable);
        assert_eq!(classify(&api(429, Some(999_999))), Retryable);
        assert_eq!(classify(&api(429, None)), Retryable);
        assert_eq!(classify(&api(502, None)), Retryable);
        assert_eq!(classify(&api(404, None)), Permanent);
        assert_eq!(classify(&SendError::Network("x".into())), Retryable);
        assert_eq!(classify(&SendError::Malformed("x".into())), Retryable);
    }
}
