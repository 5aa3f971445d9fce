//! Changing the config (SPEC §5's management API, and the console next): list, read,
//! create, replace, merge-patch and delete surveys, distributions, rules, accounts and
//! users.
//!
//! Objects are read and written in the config file's own form (what `closeloop check`
//! validates), without secrets. A write edits the live document and loads all of it again
//! (the §3.3 validation of the file); only a document that loads is stored and put in
//! force. Problems in the object written answer 422 with the field's path inside it;
//! problems the change causes elsewhere (a distribution naming a survey being deleted)
//! answer 409 with that object's path. `ETag` / `If-Match` keep two operators from
//! overwriting each other.

use closeloop_domain::config::document::{self, Kind};
use closeloop_domain::config::{
    load_document, ConfigError, Distribution, Loaded, Permission, Validation,
};
use closeloop_store::{AccountHealth, StoreTx};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::runtime::clock::rfc3339;
use crate::runtime::live::{failed_accounts, Snapshot, CONFIG_LOCK};
use crate::runtime::secret::{SecretError, KEY_VARIABLE};
use crate::usecase::access::Caller;
use crate::usecase::access::{can_read, require_read, require_write};
use crate::usecase::error::{ApiError, Code};
use crate::usecase::Context;

/// Fields the API adds when reading an object; a write ignores them, so what was read can
/// be sent back.
fn derived_fields(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Distributions => &["state", "state_reason"],
        Kind::Accounts => &[
            "healthy",
            "unhealthy_reason",
            "unhealthy_code",
            "unhealthy_since",
        ],
        Kind::Surveys | Kind::Users | Kind::Rules => &[],
    }
}

/// What a write does besides changing the config, in the same transaction.
pub(crate) enum Effect {
    /// Store a new API token's digest for a user.
    IssueToken {
        /// Token id.
        id: String,
        /// The user.
        user: String,
        /// SHA-256 of the token, hex.
        digest: String,
    },
    /// Revoke every token of a user (the user is deleted).
    RevokeTokens {
        /// The user.
        user: String,
    },
}

impl Effect {
    /// Applies the effect inside the write's transaction.
    ///
    /// # Errors
    /// On database failure.
    pub(crate) async fn apply(&self, tx: &mut StoreTx, now: i64) -> Result<(), ApiError> {
        match self {
            Effect::IssueToken { id, user, digest } => {
                tx.insert_api_token(id, user, digest, now).await?;
            }
            Effect::RevokeTokens { user } => {
                tx.revoke_api_tokens(user, None, now).await?;
            }
        }
        Ok(())
    }
}

/// A new API token: shown once, stored as its digest.
pub(crate) struct IssuedToken {
    /// Its id (to revoke it).
    pub(crate) id: String,
    /// The user it is for.
    pub(crate) user: String,
    /// The token itself (256 random bits).
    pub(crate) token: String,
}

impl IssuedToken {
    /// A fresh token for `user`.
    pub(crate) fn new(user: &str) -> IssuedToken {
        IssuedToken {
            id: crate::runtime::ids::new_id("tok"),
            user: user.to_owned(),
            token: format!("cl_{}", crate::runtime::ids::secret_hex(32)),
        }
    }

    /// Storing its digest.
    pub(crate) fn effect(&self) -> Effect {
        Effect::IssueToken {
            id: self.id.clone(),
            user: self.user.clone(),
            digest: crate::usecase::access::token_digest(&self.token),
        }
    }
}

/// A write that was stored and is in force.
pub(crate) struct Written {
    /// The object as the API shows it.
    pub(crate) body: Value,
    /// Its new `ETag`.
    pub(crate) etag: String,
    /// Lint warnings of the config after the write.
    pub(crate) warnings: Vec<ConfigError>,
}

/// The strong `ETag` of an object: its API revision and a digest of what is stored
/// (secrets included, so changing only a secret changes it; the digest does not reveal
/// them).
pub(crate) fn etag(revision: i64, item: &Value) -> String {
    let digest = Sha256::digest(item.to_string().as_bytes());
    format!("\"{revision}-{}\"", &hex::encode(digest)[..16])
}

/// The `If-Match` check: absent, `*` or one of the listed tags.
fn check_if_match(if_match: Option<&str>, current: Option<&str>) -> Result<(), ApiError> {
    let Some(wanted) = if_match else {
        return Ok(());
    };
    let matches = match current {
        None => false,
        Some(current) => wanted
            .split(',')
            .map(str::trim)
            .any(|w| w == "*" || w == current || w.strip_prefix("W/") == Some(current)),
    };
    if matches {
        Ok(())
    } else {
        Err(ApiError::new(Code::PreconditionFailed,
            "the object changed since you read it (If-Match does not match its ETag); read it again and retry",
        ))
    }
}

/// The object as the API shows it: the config form without secrets, plus derived state.
fn representation(
    state: &Context,
    snapshot: &Snapshot,
    kind: Kind,
    item: &Value,
    health: &[AccountHealth],
) -> Value {
    let mut out = document::public(kind, item);
    let id = document::id_of(item).unwrap_or_default();
    let Some(map) = out.as_object_mut() else {
        return out;
    };
    match kind {
        Kind::Distributions => {
            if let Some(d) = snapshot.config.distribution(id) {
                let (derived, reason) = if let Some(h) = stopped(d, health) {
                    ("failed", h.reason.clone())
                } else if d.is_expired(state.clock.now()) {
                    ("expired", None)
                } else {
                    (status_name(d.status), None)
                };
                map.insert("status".into(), json!(status_name(d.status)));
                map.insert("state".into(), json!(derived));
                map.insert("state_reason".into(), json!(reason));
            }
        }
        Kind::Accounts => {
            let h = health.iter().find(|h| h.account == id);
            map.insert("healthy".into(), json!(h.is_none_or(|h| h.healthy)));
            map.insert(
                "unhealthy_reason".into(),
                json!(h.and_then(|h| h.reason.clone())),
            );
            map.insert("unhealthy_code".into(), json!(h.and_then(|h| h.error_code)));
            map.insert(
                "unhealthy_since".into(),
                json!(h.filter(|h| !h.healthy).map(|h| rfc3339(h.changed_at))),
            );
        }
        Kind::Surveys | Kind::Users | Kind::Rules => {}
    }
    out
}

fn status_name(status: closeloop_domain::config::DistributionStatus) -> &'static str {
    use closeloop_domain::config::DistributionStatus;
    match status {
        DistributionStatus::Draft => "draft",
        DistributionStatus::Active => "active",
        DistributionStatus::Paused => "paused",
    }
}

/// A distribution's schedule, as a list filter names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Schedule {
    /// Sent when a rule fires (the one schedule there is, SPEC §3.3).
    TriggerBased,
}

/// What a list of config objects is narrowed to: the filters of an operator's pickers
/// (SPEC §5). Each applies to the kind it names and is ignored by the others.
#[derive(Clone, Debug, Default)]
pub(crate) struct ListFilter {
    /// Surveys on which the caller holds this permission (`edit_distribution`: the
    /// surveys the caller may distribute).
    pub(crate) permission: Option<Permission>,
    /// Distributions of this survey.
    pub(crate) survey: Option<String>,
    /// Distributions on this schedule.
    pub(crate) schedule: Option<Schedule>,
    /// Distributions that can send (`true`: not failed, not expired), or that cannot.
    pub(crate) usable: Option<bool>,
}

/// `GET /{kind}`: the objects the caller may see.
///
/// # Errors
/// On database failure.
pub(crate) async fn list(
    state: &Context,
    caller: &Caller,
    kind: Kind,
) -> Result<Vec<Value>, ApiError> {
    list_filtered(state, caller, kind, &ListFilter::default()).await
}

/// `GET /{kind}?…`: the objects the caller may see that pass `filter`.
///
/// # Errors
/// On database failure.
pub(crate) async fn list_filtered(
    state: &Context,
    caller: &Caller,
    kind: Kind,
    filter: &ListFilter,
) -> Result<Vec<Value>, ApiError> {
    let snapshot = state.live.snapshot();
    let health = state.store.account_health().await?;
    let config = &snapshot.config;
    let passes = |id: &str| match kind {
        Kind::Surveys => filter.permission.is_none_or(|p| {
            config.survey(id).is_some_and(|s| match p {
                Permission::ViewDistribution => caller.can_view(s),
                Permission::EditDistribution => caller.can_edit(s),
            })
        }),
        Kind::Distributions => config.distribution(id).is_some_and(|d| {
            // Every distribution is trigger-based: the schedule filter keeps them all.
            filter.survey.as_deref().is_none_or(|s| d.survey == s)
                && filter.schedule.is_none_or(|s| s == Schedule::TriggerBased)
                && filter.usable.is_none_or(|usable| {
                    usable == (stopped(d, &health).is_none() && !d.is_expired(state.clock.now()))
                })
        }),
        Kind::Rules | Kind::Accounts | Kind::Users => true,
    };
    let items: Vec<Value> = document::items(&snapshot.document, kind)
        .iter()
        .filter(|item| {
            document::id_of(item).is_some_and(|id| can_read(caller, config, kind, id) && passes(id))
        })
        .map(|item| representation(state, &snapshot, kind, item, &health))
        .collect();
    Ok(items)
}

/// The health of the distribution's account, when the provider stopped it.
fn stopped<'h>(d: &Distribution, health: &'h [AccountHealth]) -> Option<&'h AccountHealth> {
    health
        .iter()
        .find(|h| h.account == d.sender_account && !h.healthy)
}

/// `GET /{kind}/{id}`: the object and its `ETag`.
///
/// # Errors
/// 404, 403 without the permission to see it.
pub(crate) async fn get_one(
    state: &Context,
    caller: &Caller,
    kind: Kind,
    id: &str,
) -> Result<(Value, String), ApiError> {
    let snapshot = state.live.snapshot();
    let (_, item) = document::find(&snapshot.document, kind, id)
        .ok_or_else(|| ApiError::not_found(kind.singular(), id))?;
    require_read(caller, &snapshot.config, kind, id)?;
    let health = state.store.account_health().await?;
    let body = representation(state, &snapshot, kind, item, &health);
    let tag = etag(snapshot.revision(kind, id), item);
    Ok((body, tag))
}

/// A body that must be a JSON object (`what` names it in the error).
fn parse_object(body: &[u8], what: &str) -> Result<Map<String, Value>, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            Code::InvalidJson,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    crate::usecase::error::refuse_nul(&value)?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::new(
            Code::InvalidJson,
            format!("a {what} is a JSON object"),
        )),
    }
}

/// 422 for a body that tries to choose a user's API token.
fn chosen_token() -> ApiError {
    ApiError::new(
        Code::InvalidConfig,
        "API tokens are issued by the service (POST /users/{id}/tokens), not chosen",
    )
    .at("token")
}

/// The object a write body describes: a JSON object without the derived fields, its `id`
/// the path's (or, on create, its own).
fn parse_item(kind: Kind, body: &[u8], path_id: Option<&str>) -> Result<Value, ApiError> {
    let mut map = parse_object(body, kind.singular())?;
    for field in derived_fields(kind) {
        map.remove(*field);
    }
    match (path_id, map.get("id")) {
        (Some(path_id), Some(Value::String(id))) if id != path_id => {
            return Err(ApiError::new(
                Code::IdMismatch,
                format!("the body's id {id:?} is not the path's {path_id:?}"),
            )
            .at("id"))
        }
        (Some(path_id), None) => {
            map.insert("id".into(), json!(path_id));
        }
        (None, Some(Value::String(id))) if !id.trim().is_empty() => {}
        (None, _) => {
            return Err(ApiError::new(
                Code::InvalidConfig,
                format!("a {} needs a non-empty string id", kind.singular()),
            )
            .at("id"))
        }
        _ => {}
    }
    Ok(Value::Object(map))
}

/// Kind-specific filling of a written object: surveys default to the caller as owner,
/// rules record the caller as their author, users cannot be given a token in the body.
fn prepare(
    kind: Kind,
    caller: &Caller,
    item: &mut Map<String, Value>,
    stored: Option<&Value>,
) -> Result<(), ApiError> {
    match kind {
        Kind::Surveys if !item.contains_key("owner") => {
            let owner = stored
                .and_then(|s| s.get("owner"))
                .cloned()
                .or_else(|| caller.user_id().map(|me| json!(me)));
            if let Some(owner) = owner {
                item.insert("owner".into(), owner);
            }
        }
        Kind::Rules => match caller.user_id() {
            Some(me) => {
                item.insert("author".into(), json!(me));
            }
            None => {
                item.remove("author");
            }
        },
        Kind::Users => {
            if item.contains_key("token") {
                return Err(chosen_token());
            }
        }
        Kind::Surveys | Kind::Accounts | Kind::Distributions => {}
    }
    Ok(())
}

/// Validation errors as an API error: 422 at the written object's field, 409 when the
/// change breaks another object.
fn invalid(errors: Vec<ConfigError>, kind: Kind, index: Option<usize>) -> ApiError {
    let details: Vec<Value> = errors
        .iter()
        .map(|e| json!({"path": e.path, "message": e.message}))
        .collect();
    let (own, others) = match index {
        Some(i) => document::split_errors(errors, kind, i),
        None => (Vec::new(), errors),
    };
    let more = |n: usize| {
        if n > 1 {
            format!(" (and {} more problem(s), see details)", n - 1)
        } else {
            String::new()
        }
    };
    let error = if let Some(first) = own.first() {
        ApiError::new(
            Code::InvalidConfig,
            format!("{}{}", first.message, more(own.len() + others.len())),
        )
        .at(first.path.clone())
    } else if let Some(first) = others.first() {
        ApiError::new(
            Code::BreaksConfig,
            format!(
                "this change would break {}: {}{}",
                first.path,
                first.message,
                more(others.len())
            ),
        )
        .at(first.path.clone())
    } else {
        ApiError::new(Code::InvalidConfig, "the config is not valid")
    };
    error.with_details(details)
}

/// 422 for a secret that cannot be stored encrypted (no key is set).
fn secret_not_storable(error: SecretError) -> ApiError {
    match error {
        SecretError::KeyMissing { field, .. } => ApiError::new(
            Code::SecretKeyMissing,
            format!(
                "{field} is a secret, and secrets are stored only encrypted: set {KEY_VARIABLE} \
                 (32 bytes as 64 hex characters) where closeloop serve runs to write one"
            ),
        )
        .at(field),
        other => ApiError::internal(other),
    }
}

/// Loads the config again when another process changed it (its revision in the database
/// is not the one in force), reconciles the queue-rule schedule when the rules changed,
/// and wakes the send loops (accounts may have been added or changed). Returns whether
/// the config changed.
///
/// # Errors
/// When the database fails or the stored changes no longer load with the file.
pub(crate) async fn refresh(ctx: &Context) -> Result<bool, ApiError> {
    let before = ctx.live.snapshot();
    let in_database = ctx.store.config_revision().await?;
    let now = ctx.clock.now();
    if !ctx
        .live
        .refresh(&ctx.store, in_database, now)
        .await
        .map_err(ApiError::internal)?
    {
        return Ok(false);
    }
    let after = ctx.live.snapshot();
    if before.queue_rules != after.queue_rules {
        ctx.store
            .set_queue_rules(&after.queue_rules, ctx.clock.now_ms())
            .await?;
    }
    ctx.wake_dispatch.notify_waiters();
    tracing::info!(
        revision = after.revision,
        "config changed by another process; in force here"
    );
    Ok(true)
}

/// Builds an object's new version from its stored one.
pub(crate) type Update<'a> = Box<dyn FnOnce(&Value) -> Result<Value, ApiError> + Send + 'a>;

/// What a write does to one object.
pub(crate) enum Change<'a> {
    /// Creates it (409 when the id exists).
    Create(Value),
    /// Replaces it with a version computed from the stored one while the write lock is
    /// held, so a merge patch or kept secrets never build on a version another write
    /// already replaced.
    Update(Update<'a>),
    /// Deletes it.
    Delete,
}

/// Creates, updates or deletes one object: checks `If-Match` and the caller's right,
/// validates the whole document, stores the change with its effects in one transaction
/// and puts the new config in force.
///
/// # Errors
/// 412, 403, 404 (update or delete of a missing object), 409 (create of an existing
/// one, or a change that breaks another object), 422 (the object is invalid).
pub(crate) async fn write(
    state: &Context,
    caller: &Caller,
    kind: Kind,
    id: &str,
    change: Change<'_>,
    if_match: Option<&str>,
    effects: &[Effect],
) -> Result<Written, ApiError> {
    let _writer = state.live.write_lock().await;
    let before = state.live.snapshot();
    // Writers of the config are serialized across processes; a change another process
    // stored since this one last looked is loaded first, so none is built on or lost.
    let mut tx = state.store.begin().await?;
    tx.lock(&[CONFIG_LOCK]).await?;
    let in_database = tx.config_revision().await?;
    state
        .live
        .refresh(&state.store, in_database, state.clock.now())
        .await
        .map_err(ApiError::internal)?;
    let snapshot = state.live.snapshot();
    let existing = document::find(&snapshot.document, kind, id).map(|(_, v)| v);
    let current_tag = existing.map(|v| etag(snapshot.revision(kind, id), v));
    check_if_match(if_match, current_tag.as_deref())?;
    let item = match (change, existing) {
        (Change::Create(_), Some(_)) => {
            return Err(ApiError::new(
                Code::AlreadyExists,
                format!("{} {id:?} already exists", kind.singular()),
            )
            .at("id"))
        }
        (Change::Create(item), None) => Some(item),
        (_, None) => return Err(ApiError::not_found(kind.singular(), id)),
        (Change::Update(build), Some(stored)) => Some(build(stored)?),
        (Change::Delete, Some(_)) => None,
    };
    require_write(caller, &snapshot.config, kind, id, item.as_ref())?;

    let mut doc = snapshot.document.clone();
    let index = match &item {
        Some(v) => Some(document::put(&mut doc, kind, id, v.clone())),
        None => {
            document::remove(&mut doc, kind, id);
            None
        }
    };
    let health = state.store.account_health().await?;
    let failed = failed_accounts(&health);
    let checked_rule = (kind == Kind::Rules && item.is_some()).then_some(id);
    let loaded = load_document(
        &doc,
        state.clock.now(),
        &Validation::Live {
            checked_rule,
            failed_accounts: &failed,
        },
    )
    .map_err(|errors| invalid(errors, kind, index))?;

    let stored = match &item {
        Some(v) => Some(
            state
                .live
                .stored_form(kind, v)
                .map_err(secret_not_storable)?
                .to_string(),
        ),
        None => None,
    };
    let now = state.clock.now_ms();
    let revision = tx
        .record_config_change(kind.key(), id, stored.as_deref(), now, caller.user_id())
        .await?;
    for effect in effects {
        effect.apply(&mut tx, now).await?;
    }
    tx.commit().await?;

    let next = snapshot.next(loaded.config, doc, (kind, id, revision));
    let queue_rules_changed = before.queue_rules != next.queue_rules;
    let (body, tag) = match &item {
        Some(v) => (
            representation(state, &next, kind, v, &health),
            etag(revision, v),
        ),
        None => (Value::Null, String::new()),
    };
    state.live.replace(next);
    if queue_rules_changed {
        let rules = state.live.snapshot().queue_rules.clone();
        state.store.set_queue_rules(&rules, now).await?;
    }
    state.wake_dispatch.notify_waiters();
    tracing::info!(kind = kind.key(), %id, revision, deleted = item.is_none(), "config changed through the API");
    Ok(Written {
        body,
        etag: tag,
        warnings: loaded.warnings,
    })
}

/// What replacing an existing object would give, without storing anything: the object
/// prepared as [`replace`] prepares it, the caller's right checked, and the config in
/// force with it loaded with the same §3.3 validation as a write (the console's rule
/// "try" validates through it before it simulates).
///
/// # Errors
/// As [`replace`] (404, 403, 409, 422), and 400 for an object that is not a JSON object.
pub(crate) async fn dry_run(
    state: &Context,
    caller: &Caller,
    kind: Kind,
    id: &str,
    item: &Value,
) -> Result<Loaded, ApiError> {
    let snapshot = state.live.snapshot();
    let (_, stored) = document::find(&snapshot.document, kind, id)
        .ok_or_else(|| ApiError::not_found(kind.singular(), id))?;
    require_read(caller, &snapshot.config, kind, id)?;
    let body = serde_json::to_vec(item).map_err(ApiError::internal)?;
    let mut item = parse_item(kind, &body, Some(id))?;
    if let Some(map) = item.as_object_mut() {
        prepare(kind, caller, map, Some(stored))?;
    }
    document::keep_secrets(kind, stored, &mut item);
    require_write(caller, &snapshot.config, kind, id, Some(&item))?;
    let mut doc = snapshot.document.clone();
    let index = document::put(&mut doc, kind, id, item);
    let health = state.store.account_health().await?;
    let failed = failed_accounts(&health);
    let checked_rule = (kind == Kind::Rules).then_some(id);
    load_document(
        &doc,
        state.clock.now(),
        &Validation::Live {
            checked_rule,
            failed_accounts: &failed,
        },
    )
    .map_err(|errors| invalid(errors, kind, Some(index)))
}

/// `POST /{kind}`. A new user gets a first API token, in the answer only.
///
/// # Errors
/// As [`write`], and 400 for a body that is not a JSON object.
pub(crate) async fn create(
    state: &Context,
    caller: &Caller,
    kind: Kind,
    if_match: Option<&str>,
    body: &[u8],
) -> Result<Written, ApiError> {
    let mut item = parse_item(kind, body, None)?;
    if let Some(map) = item.as_object_mut() {
        prepare(kind, caller, map, None)?;
    }
    let id = document::id_of(&item).unwrap_or_default().to_owned();
    let issued = (kind == Kind::Users).then(|| IssuedToken::new(&id));
    let effects: Vec<Effect> = issued.iter().map(IssuedToken::effect).collect();
    let mut written = write(
        state,
        caller,
        kind,
        &id,
        Change::Create(item),
        if_match,
        &effects,
    )
    .await?;
    if let (Some(issued), Some(map)) = (issued, written.body.as_object_mut()) {
        map.insert("token".into(), json!(issued.token));
        map.insert("token_id".into(), json!(issued.id));
    }
    Ok(written)
}

/// `PUT /{kind}/{id}`: replaces the object; secrets left out are kept.
///
/// # Errors
/// As [`write`].
pub(crate) async fn replace(
    state: &Context,
    caller: &Caller,
    kind: Kind,
    id: &str,
    if_match: Option<&str>,
    body: &[u8],
) -> Result<Written, ApiError> {
    let item = parse_item(kind, body, Some(id))?;
    let update = move |stored: &Value| {
        let mut item = item;
        if let Some(map) = item.as_object_mut() {
            prepare(kind, caller, map, Some(stored))?;
        }
        document::keep_secrets(kind, stored, &mut item);
        Ok(item)
    };
    let change = Change::Update(Box::new(update));
    write(state, caller, kind, id, change, if_match, &[]).await
}

/// `PATCH /{kind}/{id}`: a JSON merge patch (RFC 7396) of the object, e.g.
/// `{"status":"paused"}` on a distribution.
///
/// # Errors
/// As [`write`].
pub(crate) async fn patch(
    state: &Context,
    caller: &Caller,
    kind: Kind,
    id: &str,
    if_match: Option<&str>,
    body: &[u8],
) -> Result<Written, ApiError> {
    let patch = parse_object(body, "merge patch")?;
    if patch.get("id").is_some_and(|v| v.as_str() != Some(id)) {
        return Err(ApiError::new(Code::IdMismatch, "the id cannot be changed").at("id"));
    }
    if kind == Kind::Users && patch.contains_key("token") {
        return Err(chosen_token());
    }
    let patch = Value::Object(patch);
    let update = move |stored: &Value| {
        let mut item = stored.clone();
        json_patch::merge(&mut item, &patch);
        if let Some(map) = item.as_object_mut() {
            for field in derived_fields(kind) {
                map.remove(*field);
            }
            if kind == Kind::Rules {
                prepare(kind, caller, map, Some(stored))?;
            }
        }
        Ok(item)
    };
    let change = Change::Update(Box::new(update));
    write(state, caller, kind, id, change, if_match, &[]).await
}

/// `DELETE /{kind}/{id}`.
///
/// # Errors
/// As [`write`]: 409 when other objects still use it.
pub(crate) async fn delete(
    state: &Context,
    caller: &Caller,
    kind: Kind,
    id: &str,
    if_match: Option<&str>,
) -> Result<(), ApiError> {
    let effects = match kind {
        Kind::Users => vec![Effect::RevokeTokens {
            user: id.to_owned(),
        }],
        _ => Vec::new(),
    };
    write(state, caller, kind, id, Change::Delete, if_match, &effects).await?;
    Ok(())
}
