//! Invite status (SPEC §1.1) and response status (SPEC §1.2), with their transition rules.
//!
//! Provider webhooks arrive late, twice or out of order; `transition` is the single place that
//! decides whether an observed status may replace the stored one, so a status never moves
//! backwards whatever order the webhooks come in.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A name that is not one of the known ones (statuses, event kinds, message kinds).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown name `{0}`")]
pub struct StatusError(pub String);

/// Where an invite is in its delivery life.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InviteStatus {
    /// Created, not yet accepted by the provider.
    Pending,
    /// Accepted by the provider.
    Sent,
    /// Delivered to the handset.
    Delivered,
    /// Read receipt received or link opened.
    Opened,
    /// The provider refused or gave up.
    Failed,
    /// Not sent: the recipient was surveyed within the quarantine window.
    Quarantined,
    /// Not sent: the recipient is on the suppression list.
    Suppressed,
    /// The recipient opted out after the invite.
    Unsubscribed,
}

/// Alias accepted in conditions for "the provider accepted it" (sent, delivered or opened).
pub const INVITE_SENT_ALIAS: &str = "invite_sent";

impl InviteStatus {
    /// Every status, in declaration order.
    pub const ALL: [InviteStatus; 8] = [
        InviteStatus::Pending,
        InviteStatus::Sent,
        InviteStatus::Delivered,
        InviteStatus::Opened,
        InviteStatus::Failed,
        InviteStatus::Quarantined,
        InviteStatus::Suppressed,
        InviteStatus::Unsubscribed,
    ];

    /// The snake_case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            InviteStatus::Pending => "pending",
            InviteStatus::Sent => "sent",
            InviteStatus::Delivered => "delivered",
            InviteStatus::Opened => "opened",
            InviteStatus::Failed => "failed",
            InviteStatus::Quarantined => "quarantined",
            InviteStatus::Suppressed => "suppressed",
            InviteStatus::Unsubscribed => "unsubscribed",
        }
    }

    /// No more delivery progress is possible: failed, quarantined, suppressed, unsubscribed.
    /// (A failed invite may still be marked unsubscribed, which sends nothing.)
    pub fn is_final(&self) -> bool {
        self.delivery_rank().is_none()
    }

    /// Position on the delivery ladder pending → sent → delivered → opened.
    fn delivery_rank(&self) -> Option<u8> {
        match self {
            InviteStatus::Pending => Some(0),
            InviteStatus::Sent => Some(1),
            InviteStatus::Delivered => Some(2),
            InviteStatus::Opened => Some(3),
            _ => None,
        }
    }

    /// `Some(to)` when moving from `self` to `to` is allowed, `None` when the observation must
    /// be ignored (duplicate, backwards, or leaving a final state).
    pub fn transition(self, to: InviteStatus) -> Option<InviteStatus> {
        use InviteStatus::*;
        let allowed = match (self, to) {
            _ if self == to => false,
            (Failed, Unsubscribed) => true,
            // Quarantine and suppression are decided before anything is sent.
            (Pending, Quarantined | Suppressed) => true,
            (_, Failed | Unsubscribed) => self.delivery_rank().is_some(),
            _ => match (self.delivery_rank(), to.delivery_rank()) {
                (Some(from), Some(next)) => next > from,
                _ => false,
            },
        };
        allowed.then_some(to)
    }

    /// Whether a condition's status name selects this status; `invite_sent` selects sent,
    /// delivered and opened.
    pub fn matches(&self, name: &str) -> bool {
        if name == INVITE_SENT_ALIAS {
            return matches!(
                self,
                InviteStatus::Sent | InviteStatus::Delivered | InviteStatus::Opened
            );
        }
        self.as_str() == name
    }
}

impl fmt::Display for InviteStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for InviteStatus {
    type Err = StatusError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InviteStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| StatusError(s.to_owned()))
    }
}

/// How far the customer got with the survey.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseStatus {
    /// Nothing happened yet.
    NotStarted,
    /// Link opened, nothing answered.
    SurveyOpened,
    /// Some answers, active within `partial_after`.
    InProgress,
    /// Some answers, inactive longer than `partial_after` or link expired.
    PartiallyCompleted,
    /// Submitted with every required question answered.
    Completed,
}

impl ResponseStatus {
    /// Every status, in order.
    pub const ALL: [ResponseStatus; 5] = [
        ResponseStatus::NotStarted,
        ResponseStatus::SurveyOpened,
        ResponseStatus::InProgress,
        ResponseStatus::PartiallyCompleted,
        ResponseStatus::Completed,
    ];

    /// The snake_case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            ResponseStatus::NotStarted => "not_started",
            ResponseStatus::SurveyOpened => "survey_opened",
            ResponseStatus::InProgress => "in_progress",
            ResponseStatus::PartiallyCompleted => "partially_completed",
            ResponseStatus::Completed => "completed",
        }
    }

    /// Only `completed` is final.
    pub fn is_final(&self) -> bool {
        *self == ResponseStatus::Completed
    }

    /// `Some(to)` when allowed: forward only, except that a partially completed response
    /// goes back to in progress when the person returns; completed is final.
    pub fn transition(self, to: ResponseStatus) -> Option<ResponseStatus> {
        use ResponseStatus::*;
        let allowed = match (self, to) {
            (PartiallyCompleted, InProgress) => true,
            _ => to > self && !self.is_final(),
        };
        allowed.then_some(to)
    }
}

impl fmt::Display for ResponseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ResponseStatus {
    type Err = StatusError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ResponseStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| StatusError(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::InviteStatus::*;
    use super::ResponseStatus::*;
    use super::*;

    #[test]
    fn invite_transition_table() {
        let table: &[(InviteStatus, InviteStatus, bool)] = &[
            (Pending, Sent, true),
            (Pending, Delivered, true),
            (Pending, Opened, true),
            (Sent, Delivered, true),
            (Sent, Opened, true),
            // read receipt before the delivered webhook: opened wins, delivered is ignored
            (Opened, Delivered, false),
            (Delivered, Sent, false),
            (Sent, Pending, false),
            (Sent, Sent, false),
            (Pending, Failed, true),
            (Opened, Failed, true),
            (Delivered, Unsubscribed, true),
            (Failed, Unsubscribed, true),
            (Failed, Delivered, false),
            (Failed, Failed, false),
            (Unsubscribed, Opened, false),
            (Unsubscribed, Failed, false),
            (Pending, Quarantined, true),
            (Pending, Suppressed, true),
            (Sent, Suppressed, false),
            (Quarantined, Sent, false),
            (Quarantined, Failed, false),
            (Suppressed, Unsubscribed, false),
            (Suppressed, Sent, false),
        ];
        for (from, to, ok) in table {
            let want = ok.then_some(*to);
            assert_eq!(from.transition(*to), want, "{from} -> {to}");
        }
    }

    #[test]
    fn invite_final_and_alias() {
        let finals: Vec<_> = InviteStatus::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .collect();
        assert_eq!(finals, vec![Failed, Quarantined, Suppressed, Unsubscribed]);
        for s in InviteStatus::ALL {
            let sent_like = matches!(s, Sent | Delivered | Opened);
            assert_eq!(s.matches("invite_sent"), sent_like, "{s}");
            assert!(s.matches(s.as_str()));
            assert_eq!(s.as_str().parse::<InviteStatus>(), Ok(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert!(!Sent.matches("delivered"));
        assert!("sending".parse::<InviteStatus>().is_err());
    }

    #[test]
    fn response_transition_table() {
        let table: &[(ResponseStatus, ResponseStatus, bool)] = &[
            (NotStarted, SurveyOpened, true),
            (NotStarted, Completed, true),
            (SurveyOpened, InProgress, true),
            (InProgress, PartiallyCompleted, true),
            (PartiallyCompleted, InProgress, true),
            (PartiallyCompleted, Completed, true),
            (InProgress, SurveyOpened, false),
            (InProgress, InProgress, false),
            (Completed, InProgress, false),
            (Completed, Completed, false),
            (SurveyOpened, NotStarted, false),
        ];
        for (from, to, ok) in table {
            assert_eq!(from.transition(*to), ok.then_some(*to), "{from} -> {to}");
        }
        for s in ResponseStatus::ALL {
            assert_eq!(s.to_string().parse::<ResponseStatus>(), Ok(s));
        }
    }
}
