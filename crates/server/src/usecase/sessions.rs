//! Operator console sessions: signing in with an API token (the same check as the API's
//! bearer token, `access::user_for_token`), finding the caller of a session, signing out.
//! A session is a random id that only the browser holds (the database keeps its SHA-256
//! digest) with a CSRF token and an expiry; it never holds the API token.

use closeloop_store::ConsoleSession;

use crate::runtime::ids::secret_hex;
use crate::usecase::access::{token_digest, user_for_token, Caller};
use crate::usecase::error::ApiError;
use crate::usecase::Context;

/// How long a session lasts after sign-in: a working day.
pub(crate) const SESSION_TTL_MS: i64 = 8 * 60 * 60 * 1000;

/// A session just started: the id for the browser's cookie.
pub(crate) struct Started {
    /// The random session id (only the browser keeps it).
    pub(crate) id: String,
}

/// The caller a live session stands for, and its CSRF token.
pub(crate) struct Signed {
    /// Who is using the console.
    pub(crate) caller: Caller,
    /// The user's display name (or id), when users are configured.
    pub(crate) name: Option<String>,
    /// The token every state-changing form must carry.
    pub(crate) csrf: String,
}

async fn start(ctx: &Context, user_id: Option<String>) -> Result<Started, ApiError> {
    let id = secret_hex(32);
    let now = ctx.clock.now_ms();
    let session = ConsoleSession {
        user_id,
        csrf: secret_hex(32),
        expires_at: now + SESSION_TTL_MS,
    };
    ctx.store
        .create_console_session(&token_digest(&id), &session, now)
        .await?;
    Ok(Started { id })
}

/// Signs in with an API token: a new session for its user, or `None` for a token that is
/// not valid.
///
/// # Errors
/// On database failure.
pub(crate) async fn sign_in(ctx: &Context, token: &str) -> Result<Option<Started>, ApiError> {
    let config = ctx.config();
    match user_for_token(&ctx.store, &config, token.trim()).await? {
        Some(user) => {
            tracing::info!(user = %user.id, "console sign-in");
            start(ctx, Some(user.id)).await.map(Some)
        }
        None => Ok(None),
    }
}

/// A session for an open console (no users configured), so its forms carry a CSRF token
/// too.
///
/// # Errors
/// On database failure.
pub(crate) async fn open(ctx: &Context) -> Result<Started, ApiError> {
    start(ctx, None).await
}

/// Whether the console is open (no users are configured, like the API).
pub(crate) fn is_open(ctx: &Context) -> bool {
    ctx.config().users.is_empty()
}

/// The caller of a live session. A session of a user since removed, or an open session
/// once users are configured, stands for no one.
///
/// # Errors
/// On database failure.
pub(crate) async fn signed(ctx: &Context, id: &str) -> Result<Option<Signed>, ApiError> {
    let Some(session) = ctx
        .store
        .console_session(&token_digest(id), ctx.clock.now_ms())
        .await?
    else {
        return Ok(None);
    };
    let config = ctx.config();
    let signed = match session.user_id {
        None if config.users.is_empty() => Some(Signed {
            caller: Caller::Open,
            name: None,
            csrf: session.csrf,
        }),
        None => None,
        Some(user_id) => config.user(&user_id).map(|user| Signed {
            caller: Caller::of(user),
            name: Some(user.name.clone().unwrap_or_else(|| user.id.clone())),
            csrf: session.csrf,
        }),
    };
    Ok(signed)
}

/// Ends a session.
///
/// # Errors
/// On database failure.
pub(crate) async fn sign_out(ctx: &Context, id: &str) -> Result<(), ApiError> {
    ctx.store.end_console_session(&token_digest(id)).await?;
    Ok(())
}
