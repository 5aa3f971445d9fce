//! A case as the API and the console show it (`GET /api/v1/cases/{id}`, its trace, and the
//! console's case page): its state and queue, its conversation's service window, the
//! invites of the surveys the caller may see with their messages and answers, and for
//! every event which rules ran, what each condition saw and what each action did and why.

use closeloop_domain::config::Config;
use closeloop_store::{InviteRow, MessageRow};
use serde_json::{json, Value};

use crate::runtime::clock::rfc3339;
use crate::usecase::access::Caller;
use crate::usecase::error::ApiError;
use crate::usecase::Context;

/// The state, queue, conversation and visible invites of a case.
///
/// # Errors
/// 404 for an unknown case.
pub(crate) async fn case(ctx: &Context, caller: &Caller, id: &str) -> Result<Value, ApiError> {
    let stored = ctx
        .store
        .get_case(id)
        .await?
        .ok_or_else(|| ApiError::not_found("case", id))?;
    let config = ctx.config();
    let mut invites = Vec::new();
    for invite in ctx
        .store
        .invites_of_case(id)
        .await?
        .into_iter()
        .filter(|i| may_see(caller, &config, i))
    {
        let messages = ctx.store.invite_messages(&invite.id).await?;
        invites.push(invite_json(ctx, &invite, &messages));
    }
    let last = ctx.store.last_inbound(id).await?;
    let now = ctx.clock.now_ms();
    let conversation = last.map(|m| {
        let expires = m.at + crate::usecase::conversation::SERVICE_WINDOW_MS;
        json!({
            "last_inbound_at": rfc3339(m.at),
            "last_inbound_text": m.text,
            "account": m.account,
            "service_window_open": now < expires,
            "service_window_expires_at": rfc3339(expires),
        })
    });
    Ok(json!({
        "id": stored.case.id,
        "queue": stored.case.queue,
        "conversation": conversation,
        "case": stored.case,
        "version": stored.version,
        "created_at": rfc3339(stored.created_at),
        "updated_at": rfc3339(stored.updated_at),
        "invites": invites,
    }))
}

/// The trace of a case: for every event, which rules ran, what each condition saw, and
/// what each action did and why; and for each queue rule on the case, the runs that did
/// nothing since its last stored one (`skipped_runs`).
///
/// # Errors
/// 404 for an unknown case.
pub(crate) async fn trace(ctx: &Context, id: &str) -> Result<Value, ApiError> {
    if ctx.store.get_case(id).await?.is_none() {
        return Err(ApiError::not_found("case", id));
    }
    let events = ctx.store.case_events(id).await?;
    let events: Vec<Value> = events
        .into_iter()
        .map(|e| {
            let mut event = json!({
                "event_id": e.id,
                "kind": e.kind.as_str(),
                "at": rfc3339(e.created_at),
                "changed": e.changed,
                "processed": e.trace.is_some(),
            });
            if let Some(note) = e.note {
                event["note"] = json!(note);
            }
            if let Some(Value::Object(trace)) = e.trace {
                for (k, v) in trace {
                    event[k] = v;
                }
            } else {
                event["rules"] = json!([]);
            }
            event
        })
        .collect();
    // Scheduled runs that matched nothing and changed nothing are not stored as events
    // (SPEC §4.17); each queue rule's schedule row counts them since its last stored run.
    let schedules: Vec<Value> = ctx
        .store
        .case_schedules(id)
        .await?
        .into_iter()
        .map(|s| {
            json!({
                "rule": s.rule_id,
                "skipped_runs": s.skipped_runs,
                "last_run_at": s.last_run_at.map(rfc3339),
                "last_outcome": s.last_outcome,
                "next_run_at": rfc3339(s.due_at),
                "ends_at": rfc3339(s.ends_at),
            })
        })
        .collect();
    let skipped: i64 = schedules
        .iter()
        .filter_map(|s| s["skipped_runs"].as_i64())
        .sum();
    Ok(json!({
        "case_id": id,
        "events": events,
        "skipped_runs": skipped,
        "schedules": schedules,
    }))
}

/// Whether the caller may read an invite: `view_distribution` on its survey (a survey no
/// longer configured: admins only).
pub(crate) fn may_see(caller: &Caller, config: &Config, invite: &InviteRow) -> bool {
    match config.survey(&invite.survey) {
        Some(survey) => caller.can_view(survey),
        None => caller.is_admin(),
    }
}

/// The public JSON of an invite with its send history.
pub(crate) fn invite_json(ctx: &Context, invite: &InviteRow, messages: &[MessageRow]) -> Value {
    let error = invite
        .error_code
        .map(|code| json!({"code": code, "title": invite.error_title}));
    json!({
        "id": invite.id,
        "case_id": invite.case_id,
        "survey": invite.survey,
        "distribution": invite.distribution,
        "channel": invite.channel,
        "status": invite.status.as_str(),
        "response_status": invite.response_status.as_str(),
        "answers": invite.answers,
        "language": invite.language,
        "language_source": invite.language_source,
        "recipient": invite.recipient,
        "recipient_source": invite.recipient_source,
        "account": invite.account,
        "link": ctx.survey_link(&invite.token),
        "expires_at": rfc3339(invite.expires_at),
        "reminders_sent": invite.reminders_sent,
        "test": invite.test,
        "reason": invite.reason,
        "error": error,
        "messages": messages.iter().map(message_json).collect::<Vec<_>>(),
        "snapshot": invite.snapshot,
        "created_at": rfc3339(invite.created_at),
    })
}

fn message_json(m: &MessageRow) -> Value {
    let error = m
        .error_title
        .as_ref()
        .map(|title| json!({"code": m.error_code, "title": title}));
    json!({
        "kind": m.kind,
        "text": m.text,
        "provider_message_id": m.provider_message_id,
        "status": m.status.as_str(),
        "attempts": m.attempts,
        "error": error,
        "sent_at": m.sent_at.map(rfc3339),
    })
}
