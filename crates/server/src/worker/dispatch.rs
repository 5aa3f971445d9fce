//! The dispatcher: one loop per sender account drains that account's message outbox.
//!
//! Claim, commit, then call out: a batch is claimed with a lease in one short statement,
//! its send slots are reserved in the shared pacing row, each message waits for its slot,
//! is sent, and its result is written in a second short transaction. A process killed
//! between the provider's answer and that write leaves the message leased; when the
//! lease expires it is sent again (the one duplicate window SPEC §4.10 allows).

use std::collections::HashSet;
use std::time::Duration;

use closeloop_domain::config::{Account, ProviderKind};
use closeloop_domain::retry::RetryPolicy;
use closeloop_domain::status::InviteStatus;
use closeloop_store::{ClaimedMessage, SendResult, StoreError, Suppression};
use closeloop_whatsapp::classify::{classify, ErrorClass};
use closeloop_whatsapp::client::{Accepted, SendError};
use closeloop_whatsapp::wire::SendRequest;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::app::AppState;
use crate::ids::unit_random;
use crate::sandbox::Sandbox;
use crate::status::change_invite_status;

/// Slack added to a claimed batch's lease beyond its paced send time.
const LEASE_SLACK_MS: i64 = 30_000;
/// Most messages claimed per round per account.
const MAX_BATCH: i64 = 64;
/// Meta's pair rate limit: about one message per 6 s to the same user.
const PAIR_RATE_WAIT_MS: i64 = 6_000;
/// Pacing margin: send slightly under the limit so network jitter cannot push two
/// messages of neighbouring slots into one window at Meta.
const PACING_MARGIN: f64 = 1.05;

/// Runs one dispatcher loop per configured account until `stop`; accounts added through
/// the API get their loop when the config changes.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let mut loops = JoinSet::new();
    let mut running: HashSet<String> = HashSet::new();
    let mut changes = state.live.subscribe();
    loop {
        for account in state.config().accounts.iter().map(|a| a.id.clone()) {
            if running.insert(account.clone()) {
                loops.spawn(account_loop(state.clone(), account, stop.clone()));
            }
        }
        tokio::select! {
            Some(Ok(ended)) = loops.join_next() => { running.remove(&ended); }
            changed = changes.changed() => {
                if changed.is_err() { break; }
            }
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    while loops.join_next().await.is_some() {}
}

/// Sends the account's messages until `stop` or until the account is removed from the
/// config; returns its id. Re-reads the account every round, so a changed token or rate
/// applies at once.
async fn account_loop(
    state: AppState,
    account_id: String,
    mut stop: watch::Receiver<bool>,
) -> String {
    loop {
        if *stop.borrow() {
            return account_id;
        }
        let Some(account) = state.config().account(&account_id).cloned() else {
            return account_id;
        };
        let round = dispatch_round(&state, &account).await;
        let wait = match round {
            Ok(0) => idle_wait(&state, &account_id).await,
            Ok(_) => continue,
            Err(e) => {
                tracing::error!(account = %account_id, error = %e, "dispatch failed; retrying");
                Duration::from_secs(1)
            }
        };
        if super::idle(&state.wake_dispatch, wait, &mut stop).await {
            return account_id;
        }
    }
}

/// How long to sleep when nothing could be claimed: until the next retry falls due, at
/// most 250 ms (other processes may queue work without waking us). Messages already due
/// but not claimable (stopped account, held recipient) wait the full poll interval.
async fn idle_wait(state: &AppState, account: &str) -> Duration {
    let poll = Duration::from_millis(250);
    match state.store.next_message_due(account).await {
        Ok(Some(at)) if at > state.clock.now_ms() => {
            let wait = u64::try_from(at - state.clock.now_ms()).unwrap_or(0);
            state
                .clock
                .real_duration(Duration::from_millis(wait))
                .min(poll)
        }
        _ => poll,
    }
}

/// The pacing interval of an account, in µs.
fn interval_us(account: &Account) -> i64 {
    let per_second = f64::from(account.messages_per_second.max(1));
    (1_000_000.0 * PACING_MARGIN / per_second).ceil() as i64
}

/// Claims one batch of the account's due messages and sends it; returns the batch size.
async fn dispatch_round(state: &AppState, account: &Account) -> Result<usize, StoreError> {
    let interval = interval_us(account);
    let batch = i64::from(account.messages_per_second).clamp(1, MAX_BATCH);
    let now = state.clock.now_ms();
    let lease_until = now + batch * interval / 1000 + LEASE_SLACK_MS;
    let claimed = state
        .store
        .claim_messages(&account.id, batch, lease_until, now)
        .await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let count = claimed.len();
    let first_slot = state
        .store
        .reserve_send_slots(&account.id, count as i64, interval, state.clock.now_us())
        .await?;
    let mut sends = JoinSet::new();
    for (i, message) in claimed.into_iter().enumerate() {
        let state = state.clone();
        let account = account.clone();
        let slot = first_slot + i as i64 * interval;
        sends.spawn(async move {
            state.clock.sleep_until_us(slot).await;
            if let Err(e) = send_one(&state, &account, message).await {
                tracing::error!(error = %e, "could not record a send result; the lease will expire and it is retried");
            }
        });
    }
    while sends.join_next().await.is_some() {}
    Ok(count)
}

/// Sends one claimed message and records the outcome.
async fn send_one(
    state: &AppState,
    account: &Account,
    message: ClaimedMessage,
) -> Result<(), StoreError> {
    if state
        .store
        .is_suppressed(&message.recipient, &account.id)
        .await?
    {
        let result = SendResult::Failed {
            code: None,
            title: "recipient is suppressed; not sent".into(),
        };
        return settle(state, &message, &result, None).await;
    }
    let outcome = match serde_json::from_value::<SendRequest>(message.payload.clone()) {
        Ok(request) => {
            state
                .send_windows
                .acquire(&account.id, account.messages_per_second)
                .await;
            provider_send(state, account, &request, &message).await
        }
        Err(e) => Err(SendError::Malformed(format!(
            "stored request unreadable: {e}"
        ))),
    };
    let now = state.clock.now_ms();
    let (result, class) = match outcome {
        Ok(accepted) => {
            let waited = (now - message.created_at).max(0) as f64 / 1000.0;
            state.metrics.dispatch_latency.observe(waited);
            state
                .metrics
                .messages
                .with_label_values(&["accepted", ""])
                .inc();
            (
                SendResult::Accepted {
                    provider_message_id: accepted.wamid,
                },
                None,
            )
        }
        Err(error) => {
            let class = classify(&error);
            let code = error.code().map(|c| c.to_string()).unwrap_or_default();
            state
                .metrics
                .messages
                .with_label_values(&[class_name(class), code.as_str()])
                .inc();
            tracing::warn!(account = %account.id, message = %message.id, error = %error, class = class_name(class), "send failed");
            (
                failure_result(&error, class, message.attempts, now),
                Some(class),
            )
        }
    };
    settle(state, &message, &result, class).await
}

async fn provider_send(
    state: &AppState,
    account: &Account,
    request: &SendRequest,
    message: &ClaimedMessage,
) -> Result<Accepted, SendError> {
    match account.provider {
        ProviderKind::Sandbox => Ok(Sandbox::send(
            state,
            &account.id,
            request,
            message.text.clone(),
        )),
        ProviderKind::WhatsappCloud => {
            state
                .cloud
                .send(
                    &account.api_base,
                    &account.phone_number_id,
                    account.access_token.expose(),
                    request,
                )
                .await
        }
    }
}

/// What to record for a failed attempt (SPEC §4.11, §4.12).
fn failure_result(error: &SendError, class: ErrorClass, attempts: i64, now: i64) -> SendResult {
    let policy = RetryPolicy::default();
    let code = error.code();
    let title = error.title();
    let retry_after = match error {
        SendError::Api { retry_after, .. } => retry_after.map(|d| d.as_millis() as i64),
        _ => None,
    };
    let attempt = u32::try_from(attempts).unwrap_or(u32::MAX);
    let backoff = policy.delay(attempt, unit_random()).as_millis() as i64;
    match class {
        ErrorClass::Retryable if !policy.exhausted(attempt) => SendResult::Retry {
            at: now + backoff.max(retry_after.unwrap_or(0)),
            code,
            title,
        },
        ErrorClass::RecipientThrottled if !policy.exhausted(attempt) => SendResult::Retry {
            at: now + backoff.max(PAIR_RATE_WAIT_MS),
            code,
            title,
        },
        ErrorClass::Account => SendResult::Requeue { code, title },
        _ => SendResult::Failed { code, title },
    }
}

fn class_name(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::Retryable => "retryable",
        ErrorClass::RecipientThrottled => "recipient_throttled",
        ErrorClass::Permanent => "permanent",
        ErrorClass::Account => "account",
        ErrorClass::OptOut => "opt_out",
    }
}

/// Writes a send outcome and what it means for the invite, the recipient and the account.
async fn settle(
    state: &AppState,
    message: &ClaimedMessage,
    result: &SendResult,
    class: Option<ErrorClass>,
) -> Result<(), StoreError> {
    let now = state.clock.now_ms();
    let mut tx = state.store.begin().await?;
    if !tx.settle_message(&message.id, result, now).await? {
        return Ok(());
    }
    let invite = tx.invite(&message.invite_id).await?;
    let mut invite_changed = false;
    match result {
        SendResult::Accepted { .. } => {
            if let Some(invite) = &invite {
                if message.kind != "thank_you" {
                    tx.touch_invite_sent(&invite.id, now).await?;
                    invite_changed =
                        change_invite_status(&mut tx, invite, InviteStatus::Sent, None, now)
                            .await?;
                }
            }
        }
        SendResult::Retry { at, .. } => {
            if class == Some(ErrorClass::RecipientThrottled) {
                tx.hold_recipient(&message.account, &message.recipient, *at)
                    .await?;
            }
        }
        SendResult::Requeue { code, title } => {
            tracing::error!(account = %message.account, code = ?code, %title, "account stopped: nothing more is sent from it until it is fixed and the service restarted");
            tx.mark_account_unhealthy(&message.account, *code, title, now)
                .await?;
        }
        SendResult::Failed { code, title } => {
            if let Some(invite) = invite.as_ref().filter(|_| message.kind == "invitation") {
                let target = if class == Some(ErrorClass::OptOut) {
                    InviteStatus::Unsubscribed
                } else {
                    InviteStatus::Failed
                };
                invite_changed =
                    change_invite_status(&mut tx, invite, target, Some((*code, title)), now)
                        .await?;
            }
            if class == Some(ErrorClass::OptOut) {
                tx.suppress(&Suppression {
                    phone: message.recipient.clone(),
                    reason: "marketing_opt_out".into(),
                    account: Some(message.account.clone()),
                    created_at: now,
                })
                .await?;
            }
        }
    }
    tx.commit().await?;
    if invite_changed {
        state.wake_events.notify_one();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(http_status: u16, code: Option<i64>) -> SendError {
        SendError::Api {
            http_status,
            code,
            title: "x".into(),
            details: None,
            fbtrace_id: None,
            retry_after: None,
        }
    }

    #[test]
    fn retryable_errors_are_rescheduled_until_the_policy_is_exhausted() {
        let e = api_error(500, None);
        assert!(
            matches!(failure_result(&e, ErrorClass::Retryable, 1, 0), SendResult::Retry { at, .. } if at > 0)
        );
        let last = RetryPolicy::default().max_attempts as i64;
        assert!(matches!(
            failure_result(&e, ErrorClass::Retryable, last, 0),
            SendResult::Failed { .. }
        ));
    }

    #[test]
    fn pair_rate_limit_waits_at_least_six_seconds() {
        let e = api_error(429, Some(131056));
        match failure_result(&e, ErrorClass::RecipientThrottled, 1, 1_000) {
            SendResult::Retry { at, code, .. } => {
                assert!(at >= 1_000 + PAIR_RATE_WAIT_MS);
                assert_eq!(code, Some(131056));
            }
            other => panic!("expected a retry, got {other:?}"),
        }
    }

    #[test]
    fn account_errors_requeue_and_permanent_errors_fail() {
        let e = api_error(401, Some(190));
        assert!(matches!(
            failure_result(&e, ErrorClass::Account, 1, 0),
            SendResult::Requeue {
                code: Some(190),
                ..
            }
        ));
        let e = api_error(404, Some(132001));
        assert!(matches!(
            failure_result(&e, ErrorClass::Permanent, 1, 0),
            SendResult::Failed {
                code: Some(132001),
                ..
            }
        ));
    }

    #[test]
    fn pacing_interval_stays_under_the_limit() {
        let mut account = test_account();
        account.messages_per_second = 5;
        assert!(interval_us(&account) >= 200_000);
        account.messages_per_second = 80;
        assert!(interval_us(&account) >= 12_500);
    }

    fn test_account() -> Account {
        let yaml = "accounts:\n  - {id: a, provider: sandbox, access_token: t, app_secret: s}\n";
        closeloop_domain::config::load_str(yaml, &|_| None, time::OffsetDateTime::now_utc())
            .map(|l| l.config.accounts[0].clone())
            .unwrap_or_else(|e| panic!("test config: {e:?}"))
    }
}
