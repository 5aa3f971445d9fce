//! Rule evaluation of case events inside one transaction per batch: events are claimed in
//! per-case order under a lease, evaluated (pure, in `closeloop_domain::engine`), and the
//! trace, the rule-made case changes and the invites with their queued messages commit
//! together with marking each event done.

use closeloop_domain::action::Action;
use closeloop_domain::condition::{EvalContext, EventKind, InviteFacts};
use closeloop_domain::engine::{self, MAX_CASCADE_DEPTH};
use closeloop_store::{EventRow, InviteRow, StoreError, StoreTx};
use serde_json::json;

use crate::runtime::clock::{ms_to_datetime, rfc3339};
use crate::runtime::ids::new_id;
use crate::usecase::actions::{self, ActionTrace, Outcome as ActionOutcome};
use crate::usecase::Context;

/// How long a claimed event stays ours before another worker may take it.
const LEASE_MS: i64 = 30_000;
/// Events claimed per round.
const BATCH: i64 = 64;
/// An event failing this many times is recorded with its error and skipped, so one bad
/// event cannot block its case forever.
const MAX_EVENT_ATTEMPTS: i64 = 5;

/// Claims and processes one batch in one transaction; returns how many events it claimed.
///
/// Each event runs inside its own savepoint: an event that fails is rolled back alone (its
/// lease expires and it is retried) while the rest of the batch commits. Committing once
/// per batch instead of once per event is what lets one SQLite writer keep up.
///
/// # Errors
/// On database failure while claiming or committing.
pub(crate) async fn process_batch(state: &Context, instance: &str) -> Result<usize, StoreError> {
    let now = state.clock.now_ms();
    let events = state
        .store
        .claim_events(instance, BATCH, now + LEASE_MS, now)
        .await?;
    if events.is_empty() {
        return Ok(0);
    }
    let mut tx = state.store.begin().await?;
    let cases: Vec<&str> = events.iter().map(|e| e.case_id.as_str()).collect();
    tx.lock(&cases).await?;
    let mut queued = false;
    let mut cascaded = false;
    for event in &events {
        tx.savepoint().await?;
        match process_event(&mut tx, state, instance, event).await {
            Ok(outcome) => {
                tx.release_savepoint().await?;
                queued |= outcome.queued;
                cascaded |= outcome.cascaded;
            }
            Err(e) => {
                tracing::error!(event = %event.id, case = %event.case_id, error = %e, "event failed; its lease will expire and it is retried");
                tx.rollback_to_savepoint().await?;
            }
        }
    }
    tx.commit().await?;
    if queued {
        state.wake_dispatch.notify_waiters();
    }
    if cascaded {
        state.wake_events.notify_one();
    }
    Ok(events.len())
}

/// What processing an event led to.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Outcome {
    /// A message was queued.
    pub(crate) queued: bool,
    /// A rule-made change emitted a new event.
    pub(crate) cascaded: bool,
}

/// Evaluates, inside the transaction that wrote it, the event with that id, when it is its
/// case's oldest pending event: the update, its trace, its invites and queued messages then
/// commit together, with no claim or second transaction for the event worker. The work runs
/// in a savepoint of its own; when it fails, or the event waits behind an earlier one, the
/// event stays pending for the event worker and the write that made it stands. Returns
/// what it led to, or None when it was left to the worker.
///
/// # Errors
/// On database failure of the savepoint itself.
pub(crate) async fn process_written(
    tx: &mut StoreTx,
    state: &Context,
    owner: &str,
    event_id: &str,
) -> Result<Option<Outcome>, StoreError> {
    let now = state.clock.now_ms();
    tx.savepoint().await?;
    let done = match tx.claim_event(event_id, owner, now + LEASE_MS).await {
        Ok(Some(event)) => process_event(tx, state, owner, &event).await.map(Some),
        Ok(None) => Ok(None),
        Err(e) => Err(e),
    };
    match done {
        Ok(outcome) => {
            tx.release_savepoint().await?;
            Ok(outcome)
        }
        Err(e) => {
            tracing::warn!(event = %event_id, error = %e, "evaluating an event where it was written failed; the event worker takes it");
            tx.rollback_to_savepoint().await?;
            Ok(None)
        }
    }
}

/// Evaluates one event and writes everything it causes into `tx`.
async fn process_event(
    tx: &mut StoreTx,
    state: &Context,
    instance: &str,
    event: &EventRow,
) -> Result<Outcome, StoreError> {
    let now = state.clock.now_ms();
    if event.attempts > MAX_EVENT_ATTEMPTS {
        let trace =
            json!({"rules": [], "error": "gave up after repeated failures; see the service log"});
        tx.finish_event(event.seq, instance, &trace, now).await?;
        return Ok(Outcome::default());
    }
    let snapshot = state.live.snapshot();
    let (config, index) = (&snapshot.config, &snapshot.rule_index);
    // Survey conditions read the case's invites; an event no rule is evaluated for (a
    // delivery status, say, when every rule waits for a status change) needs none.
    let evaluated = event.rule_id.is_some()
        || index.any_to_evaluate(event.kind, event.before.as_ref(), &event.after);
    let facts: Vec<InviteFacts> = if evaluated {
        let invites = tx.case_invites(&event.case_id).await?;
        invites.iter().map(facts_of).collect()
    } else {
        Vec::new()
    };
    let ctx = EvalContext {
        event_kind: event.kind,
        before: event.before.as_ref(),
        after: &event.after,
        invites: &facts,
        now: ms_to_datetime(now),
    };
    let outcomes = match (&event.kind, &event.rule_id) {
        (EventKind::Scheduled, Some(rule_id)) => config
            .rules
            .iter()
            .filter(|r| &r.id == rule_id)
            .map(|r| engine::evaluate_rule(r, &ctx))
            .collect(),
        _ => engine::evaluate(&config.rules, index, &ctx),
    };
    state
        .metrics
        .events
        .with_label_values(&[event.kind.as_str()])
        .inc();

    let stored = tx.case(&event.case_id).await?;
    let mut case = stored
        .as_ref()
        .map_or_else(|| event.after.clone(), |s| s.case.clone());
    let mut rules_trace = Vec::with_capacity(outcomes.len());
    let mut outcome = Outcome::default();
    let mut run = RunSummary::default();
    for rule in outcomes {
        state
            .metrics
            .rule_runs
            .with_label_values(&[
                rule.rule.as_str(),
                if rule.matched { "true" } else { "false" },
            ])
            .inc();
        let mut action_traces: Vec<ActionTrace> = Vec::new();
        if rule.matched {
            for action in &rule.actions {
                let trace = run_action(tx, state, &mut case, action, now).await?;
                outcome.queued |= trace.outcome == ActionOutcome::Queued;
                run.saw(&trace);
                action_traces.push(trace);
            }
        }
        run.matched |= rule.matched;
        let mut entry = json!({
            "rule": rule.rule,
            "matched": rule.matched,
            "conditions": rule.conditions,
            "actions": action_traces,
        });
        if let Some(field) = &rule.unchanged {
            // Not evaluated: the rule needs this case field to change, and it did not.
            entry["unchanged"] = json!(field);
        }
        rules_trace.push(entry);
    }
    let case_changed = stored.as_ref().is_some_and(|s| case != s.case);
    if let (EventKind::Scheduled, Some(rule_id)) = (event.kind, &event.rule_id) {
        let word = run.word();
        if !run.acted && !case_changed {
            // A run that matched nothing and changed nothing leaves no event (SPEC §4.17):
            // its schedule row counts it.
            if !tx
                .skip_scheduled_run(event.seq, instance, rule_id, &event.case_id, word, now)
                .await?
            {
                return Err(lease_lost(event));
            }
            return Ok(outcome);
        }
        tx.stored_scheduled_run(rule_id, &event.case_id, word, now)
            .await?;
    }
    let mut notes = Vec::new();
    if let Some(stored) = &stored {
        if case_changed {
            if event.depth + 1 >= MAX_CASCADE_DEPTH {
                notes.push(format!(
                    "loop_guard: rule changes not applied; {MAX_CASCADE_DEPTH} rule-made updates in a row"
                ));
            } else {
                tx.write_case(
                    Some(stored),
                    &case,
                    EventKind::CaseUpdated,
                    event.depth + 1,
                    new_id("evt"),
                    &state.live.snapshot().queue_rules,
                    now,
                )
                .await?;
                outcome.cascaded = true;
            }
        }
    }
    let trace = json!({"rules": rules_trace, "notes": notes, "processed_at": rfc3339(now)});
    if !tx.finish_event(event.seq, instance, &trace, now).await? {
        return Err(lease_lost(event));
    }
    Ok(outcome)
}

fn lease_lost(event: &EventRow) -> StoreError {
    StoreError::LeaseLost(format!(
        "event {} is no longer leased by this process",
        event.id
    ))
}

/// What the rules of one event did, in short: whether any matched, whether any action
/// did something, and the first reason an action gave.
#[derive(Default)]
struct RunSummary {
    matched: bool,
    acted: bool,
    reason: Option<String>,
}

impl RunSummary {
    fn saw(&mut self, trace: &ActionTrace) {
        self.acted |= !matches!(
            trace.outcome,
            ActionOutcome::Skipped | ActionOutcome::Unchanged
        );
        if self.reason.is_none() {
            self.reason.clone_from(&trace.reason);
        }
    }

    /// The outcome of a run in a word, as the schedule keeps it.
    fn word(&self) -> &str {
        match (&self.reason, self.matched, self.acted) {
            (_, false, _) => "not_matched",
            (_, true, true) => "acted",
            (Some(reason), true, false) => reason,
            (None, true, false) => "nothing_to_do",
        }
    }
}

async fn run_action(
    tx: &mut StoreTx,
    state: &Context,
    case: &mut closeloop_domain::case::Case,
    action: &Action,
    now: i64,
) -> Result<ActionTrace, StoreError> {
    match action {
        Action::TriggerSurveyInvitation(a) => {
            actions::trigger_invitation(tx, state, case, a, now).await
        }
        Action::SendSurveyReminder(a) => actions::send_reminder(tx, state, case, a, now).await,
        Action::SendThankYouMessage(a) => actions::send_thank_you(tx, state, case, a, now).await,
        other => Ok(match other.apply_to_case(case) {
            Ok(true) => case_action_trace(other, ActionOutcome::Applied, None),
            Ok(false) => case_action_trace(other, ActionOutcome::Unchanged, None),
            Err(e) => case_action_trace(other, ActionOutcome::Failed, Some(e.to_string())),
        }),
    }
}

fn case_action_trace(
    action: &Action,
    outcome: ActionOutcome,
    reason: Option<String>,
) -> ActionTrace {
    ActionTrace {
        action: action.name().to_string(),
        outcome,
        reason,
        ..ActionTrace::default()
    }
}

/// What the conditions may know of an invite.
fn facts_of(invite: &InviteRow) -> InviteFacts {
    InviteFacts {
        survey: invite.survey.clone(),
        channel: invite.channel.clone(),
        distribution: invite.distribution.clone(),
        status: invite.status,
        response_status: invite.response_status,
        created_at: ms_to_datetime(invite.created_at),
        last_sent_at: invite.last_sent_at.map(ms_to_datetime),
        answers: invite.answers.clone(),
    }
}
