//! A rule: when it runs (`on`), what must hold (`when`), what it does (`then`), and who wrote it.

use crate::action::ThenElement;
use crate::condition::{Condition, EventKind};
use crate::duration::Duration;

/// How long a queue rule keeps evaluating a case that stays in its queue, when the rule
/// does not say (`for`, SPEC §3).
pub const DEFAULT_QUEUE_RULE_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

/// When a rule is evaluated.
#[derive(Clone, Debug, PartialEq)]
pub enum Trigger {
    /// On every case event except scheduled runs (`on: case_update`).
    CaseUpdate,
    /// Periodically over the cases in a queue (`on: {queue: Q, every: 15m, for: 7d}`).
    Queue {
        /// The queue whose cases are evaluated.
        queue: String,
        /// How often.
        every: Duration,
        /// How long a case is evaluated after it entered the queue (`for`, default 30d).
        runs_for: Duration,
    },
}

impl Trigger {
    /// Whether a rule with this trigger is evaluated for an event of `kind`.
    pub fn fits(&self, kind: EventKind) -> bool {
        match self {
            Trigger::CaseUpdate => kind != EventKind::Scheduled,
            Trigger::Queue { .. } => kind == EventKind::Scheduled,
        }
    }
}

/// One rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Unique id.
    pub id: String,
    /// When it runs.
    pub on: Trigger,
    /// What must hold; `None` = always.
    pub when: Option<Condition>,
    /// What it does.
    pub then: Vec<ThenElement>,
    /// The user the rule acts for (permission checks, audit).
    pub author: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_fits_event_kinds() {
        let queue = Trigger::Queue {
            queue: "q".into(),
            every: Duration::from_secs(900),
            runs_for: DEFAULT_QUEUE_RULE_FOR,
        };
        for kind in EventKind::ALL {
            let scheduled = kind == EventKind::Scheduled;
            assert_eq!(Trigger::CaseUpdate.fits(kind), !scheduled, "{kind}");
            assert_eq!(queue.fits(kind), scheduled, "{kind}");
        }
    }
}
