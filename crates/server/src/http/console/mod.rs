//! The operator console (SPEC §8): server-rendered HTML pages at `/console` that show and
//! change what the REST API shows and changes for the signed-in user, through the same
//! operations (`usecase`, or the API handler itself where the operation lives there) and
//! so the same survey-level permissions. One module per page or job; the templates are in
//! `templates/console/`. Every page reads without JavaScript; `htmx` (vendored, see
//! `assets`) only spares a reload where a form answers part of a page.

mod accounts;
mod assets;
mod cases;
mod chart;
mod distributions;
mod login;
mod overview;
mod page;
mod rules;
mod security;
mod session;
mod suppressions;
mod words;

use axum::routing::{get, post};
use axum::Router;

use crate::http::AppState;

/// The console's routes; everything but sign-in and the static assets needs a session
/// (or an open console), and every POST behind it its CSRF token.
pub(crate) fn routes(state: AppState) -> Router<AppState> {
    let signed_in = Router::new()
        .route("/console", get(overview::show))
        .route("/console/overview.csv", get(overview::csv))
        .route("/console/logout", post(login::logout))
        .route("/console/distributions", get(distributions::list))
        .route("/console/distributions/{id}", get(distributions::show))
        .route(
            "/console/distributions/{id}/status",
            post(distributions::set_status),
        )
        .route(
            "/console/distributions/{id}/clone",
            post(distributions::clone),
        )
        .route(
            "/console/distributions/{id}/test",
            post(distributions::test_send),
        )
        .route("/console/rules", get(rules::list))
        .route("/console/rules/{id}", get(rules::show).post(rules::save))
        .route("/console/rules/{id}/try", post(rules::try_it))
        .route("/console/cases", get(cases::search))
        .route("/console/cases/{id}", get(cases::show))
        .route(
            "/console/suppressions",
            get(suppressions::list).post(suppressions::add),
        )
        .route("/console/suppressions/remove", post(suppressions::remove))
        .route("/console/accounts", get(accounts::list))
        .route("/console/accounts/{id}/resume", post(accounts::resume))
        .route("/console/{*unknown}", get(page::not_found))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            session::require_session,
        ));
    Router::new()
        .route("/console/login", get(login::form).post(login::sign_in))
        .route("/console/assets/{file}", get(assets::serve))
        .merge(signed_in)
        .layer(axum::middleware::from_fn(security::headers))
}
