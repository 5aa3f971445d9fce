//! The dispatcher: one loop per sender account drains that account's message outbox.
//!
//! Claim, commit, then call out: a batch is claimed with a lease in one short statement,
//! its send slots are reserved in the shared pacing row, each message waits for its slot,
//! is sent, and its result is written in a second short transaction. A process killed
//! between the provider's answer and that write leaves the message leased; when the
//! lease expires it is sent again (the one duplicate window SPEC §4.10 allows).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use closeloop_domain::config::{Account, ProviderKind};
use closeloop_domain::retry::RetryPolicy;
use closeloop_store::{ClaimedMessage, SendResult, StoreError};
use closeloop_whatsapp::classify::{classify, ErrorClass};
use closeloop_whatsapp::client::{Accepted, CloudClient, SendError};
use closeloop_whatsapp::webhook::DeliveryStatus;
use closeloop_whatsapp::wire::{SendRequest, SessionRequest};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::runtime::clock::rfc3339;
use crate::runtime::ids::{new_id, unit_random};
use crate::runtime::rate::SendWindows;
use crate::runtime::sandbox::{SandboxLog, SandboxMessage};
use crate::usecase::error::ApiError;
use crate::usecase::settle::{settle, Settle};
use crate::usecase::{delivery, Context};

/// Slack added to a claimed batch's lease beyond its paced send time.
const LEASE_SLACK_MS: i64 = 30_000;
/// Most messages claimed per round per account.
const MAX_BATCH: i64 = 64;
/// Most sends of one account waiting for Meta's answer at once.
const MAX_IN_FLIGHT: usize = 4 * MAX_BATCH as usize;
/// Meta's pair rate limit: about one message per 6 s to the same user.
const PAIR_RATE_WAIT_MS: i64 = 6_000;
/// Pacing margin: send slightly under the limit so network jitter cannot push two
/// messages of neighbouring slots into one window at Meta.
const PACING_MARGIN: f64 = 1.05;

/// How long the sandbox waits before each status, in clock time.
const SANDBOX_STATUS_STEPS: [(DeliveryStatus, Duration); 3] = [
    (DeliveryStatus::Sent, Duration::from_millis(50)),
    (DeliveryStatus::Delivered, Duration::from_millis(150)),
    (DeliveryStatus::Read, Duration::from_millis(400)),
];

/// What the send loops use.
pub(crate) struct Dispatcher {
    /// The operations' handles.
    pub(crate) ctx: Arc<Context>,
    /// The WhatsApp Cloud API client.
    pub(crate) cloud: CloudClient,
    /// The sandbox provider's record of what it "sent".
    pub(crate) sandbox: Arc<SandboxLog>,
    /// Exact per-account sending windows of this process.
    pub(crate) windows: Arc<SendWindows>,
}

/// Shared handle to the send loops' handles.
type State = Arc<Dispatcher>;

/// Runs one dispatcher loop per configured account until `stop`; accounts added through
/// the API get their loop when the config changes.
pub(crate) async fn run(state: State, mut stop: watch::Receiver<bool>) {
    let mut loops = JoinSet::new();
    let mut running: HashSet<String> = HashSet::new();
    let mut changes = state.ctx.live.subscribe();
    loop {
        for account in state.ctx.config().accounts.iter().map(|a| a.id.clone()) {
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
/// applies at once. Sends still waiting for Meta's answer when a round ends go on beside
/// the next rounds, so one slow answer does not hold up the account's other messages.
async fn account_loop(state: State, account_id: String, mut stop: watch::Receiver<bool>) -> String {
    let mut in_flight = JoinSet::new();
    let ended = loop {
        if *stop.borrow() {
            break account_id;
        }
        let Some(account) = state.ctx.config().account(&account_id).cloned() else {
            break account_id;
        };
        while in_flight.try_join_next().is_some() {}
        while in_flight.len() >= MAX_IN_FLIGHT {
            in_flight.join_next().await;
        }
        // Registered before the round, so a message queued while the round runs wakes the
        // loop (every account loop is woken; each claims only its own messages).
        let woken = state.ctx.wake_dispatch.notified();
        let round = dispatch_round(&state, &account, &mut in_flight).await;
        let wait = match round {
            Ok(0) => idle_wait(&state, &account_id).await,
            Ok(_) => continue,
            Err(e) => {
                tracing::error!(account = %account_id, error = %e, "dispatch failed; retrying");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            () = woken => {}
            () = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => break account_id,
        }
    };
    // Every send that went out is settled before the loop ends.
    while in_flight.join_next().await.is_some() {}
    ended
}

/// How long to sleep when nothing could be claimed: until the next retry falls due, at
/// most the fallback poll (`worker::fallback_poll`). Messages already due but not claimable
/// (stopped account, held recipient) wait the full poll interval.
async fn idle_wait(state: &State, account: &str) -> Duration {
    let poll = super::fallback_poll(&state.ctx);
    match state.ctx.store.next_message_due(account).await {
        Ok(Some(at)) if at > state.ctx.clock.now_ms() => {
            let wait = u64::try_from(at - state.ctx.clock.now_ms()).unwrap_or(0);
            state
                .ctx
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

/// Claims one batch of the account's due messages and starts sending it, each at its
/// paced slot; returns the batch size once the last one has started. The sends finish in
/// `in_flight`.
async fn dispatch_round(
    state: &State,
    account: &Account,
    in_flight: &mut JoinSet<()>,
) -> Result<usize, StoreError> {
    let interval = interval_us(account);
    let batch = i64::from(account.messages_per_second).clamp(1, MAX_BATCH);
    let now = state.ctx.clock.now_ms();
    let lease_until = now + batch * interval / 1000 + LEASE_SLACK_MS;
    // A fresh owner per claim: a send whose lease expired and was claimed again (here or
    // in another process) can no longer be settled by the first claim.
    let lease = new_id("lease");
    let claimed = state
        .ctx
        .store
        .claim_messages(&account.id, &lease, batch, lease_until, now)
        .await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let count = claimed.len();
    let first_slot = state
        .ctx
        .store
        .reserve_send_slots(
            &account.id,
            count as i64,
            interval,
            state.ctx.clock.now_us(),
        )
        .await?;
    let mut last_slot = first_slot;
    for (i, message) in claimed.into_iter().enumerate() {
        let state = state.clone();
        let account = account.clone();
        let lease = lease.clone();
        let slot = first_slot + i as i64 * interval;
        last_slot = slot;
        in_flight.spawn(async move {
            state.ctx.clock.sleep_until_us(slot).await;
            if send_one(&state, &account, message, &lease).await.is_err() {
                // The cause is logged where it happened.
                tracing::error!(
                    "could not record a send result; the lease will expire and it is retried"
                );
            }
        });
    }
    // The next batch is claimed once this one's slots have come, so claims never run
    // ahead of the pace (and of their leases).
    state.ctx.clock.sleep_until_us(last_slot).await;
    Ok(count)
}

/// Sends one claimed message and records the outcome.
async fn send_one(
    state: &State,
    account: &Account,
    message: ClaimedMessage,
    lease: &str,
) -> Result<(), ApiError> {
    if state
        .ctx
        .store
        .is_suppressed(&message.recipient, &account.id)
        .await?
    {
        let result = SendResult::Suppressed;
        return settle(&state.ctx, settled(message, lease, result, None)).await;
    }
    let outcome = match serde_json::from_value::<StoredRequest>(message.payload.clone()) {
        Ok(request) => {
            state
                .windows
                .acquire(&account.id, account.messages_per_second)
                .await;
            provider_send(state, account, &request, &message).await
        }
        Err(e) => Err(SendError::Malformed(format!(
            "stored request unreadable: {e}"
        ))),
    };
    let now = state.ctx.clock.now_ms();
    let (result, class) = match outcome {
        Ok(accepted) => {
            let waited = (now - message.created_at).max(0) as f64 / 1000.0;
            state.ctx.metrics.dispatch_latency.observe(waited);
            state
                .ctx
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
                .ctx
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
    settle(&state.ctx, settled(message, lease, result, class)).await
}

fn settled(
    message: ClaimedMessage,
    lease: &str,
    result: SendResult,
    class: Option<ErrorClass>,
) -> Settle {
    Settle {
        message,
        lease_owner: lease.to_string(),
        result,
        class,
    }
}

/// A message body as the outbox stores it: a template, or a free-form message (an
/// in-chat question) that Meta delivers only inside the customer service window.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum StoredRequest {
    Template(SendRequest),
    Session(SessionRequest),
}

async fn provider_send(
    state: &State,
    account: &Account,
    request: &StoredRequest,
    message: &ClaimedMessage,
) -> Result<Accepted, SendError> {
    match account.provider {
        ProviderKind::Sandbox => Ok(sandbox_send(
            state,
            &account.id,
            request,
            message.text.clone(),
        )),
        ProviderKind::WhatsappCloud => {
            let (api_base, number, token) = (
                &account.api_base,
                &account.phone_number_id,
                account.access_token.expose(),
            );
            match request {
                StoredRequest::Template(r) => state.cloud.send(api_base, number, token, r).await,
                StoredRequest::Session(r) => state.cloud.send(api_base, number, token, r).await,
            }
        }
    }
}

/// The `sandbox` provider (SPEC §6): sends nothing over the network. It accepts every
/// message, keeps what the customer would have seen, and reports sent → delivered → read
/// after short delays through the same status path as Meta's webhooks.
fn sandbox_send(state: &State, account: &str, request: &StoredRequest, text: String) -> Accepted {
    let wamid = format!("wamid.sandbox.{}", new_id("m"));
    let (to, template, language) = match request {
        StoredRequest::Template(r) => (
            r.to.clone(),
            Some(r.template.name.clone()),
            Some(r.template.language.code.clone()),
        ),
        StoredRequest::Session(r) => (r.to.clone(), None, None),
    };
    state.sandbox.record(SandboxMessage {
        provider_message_id: wamid.clone(),
        account: account.to_string(),
        to: to.clone(),
        template,
        language,
        text,
        sent_at: rfc3339(state.ctx.clock.now_ms()),
    });
    let ctx = state.ctx.clone();
    let id = wamid.clone();
    tokio::spawn(async move {
        for (status, delay) in SANDBOX_STATUS_STEPS {
            tokio::time::sleep(ctx.clock.real_duration(delay)).await;
            let status = delivery::Status {
                wamid: id.clone(),
                status,
                errors: Vec::new(),
            };
            if let Err(e) = delivery::apply(&ctx, &status).await {
                tracing::warn!(error = %e, "sandbox status not applied");
            }
        }
    });
    Accepted {
        wamid,
        wa_id: Some(to),
        message_status: Some("accepted".into()),
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
        // Never failed for the pair rate limit alone: settling gives up only once the
        // invite's link has expired (SPEC §4.19).
        ErrorClass::RecipientThrottled => SendResult::Retry {
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
    fn pair_rate_limit_waits_at_least_six_seconds_however_many_attempts_failed() {
        let e = api_error(429, Some(131056));
        let far_past_the_budget = RetryPolicy::default().max_attempts as i64 * 10;
        for attempts in [1, far_past_the_budget] {
            match failure_result(&e, ErrorClass::RecipientThrottled, attempts, 1_000) {
                SendResult::Retry { at, code, .. } => {
                    assert!(at >= 1_000 + PAIR_RATE_WAIT_MS);
                    assert!(at <= 1_000 + RetryPolicy::default().cap.as_millis() as i64);
                    assert_eq!(code, Some(131056));
                }
                other => panic!("expected a retry after {attempts} attempts, got {other:?}"),
            }
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
