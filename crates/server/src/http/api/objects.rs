//! The HTTP handlers of the config objects: `GET|POST /{kind}` and
//! `GET|PUT|PATCH|DELETE /{kind}/{id}` for surveys, distributions, rules, accounts and
//! users, each a thin shell around [`crate::http::api::resources`] (one set per kind so the
//! OpenAPI document names every route).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use closeloop_domain::config::document::Kind;
use closeloop_domain::config::Permission;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use crate::http::api::resources::{self, written_response};
use crate::http::extract::ApiQuery;
use crate::http::openapi::ErrorBody;
use crate::http::schemas::{self, Account, Distribution, ObjectPage, Rule, Survey, User};
use crate::http::AppState;
use crate::usecase::access::Caller;
use crate::usecase::config_change::{ListFilter, Schedule};
use crate::usecase::error::ApiError;

/// `GET /surveys` filters (SPEC §5: the survey picker).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct SurveyQuery {
    /// Only surveys the caller holds this permission on: `view_distribution`, or
    /// `edit_distribution` (the surveys the caller may distribute).
    #[param(value_type = Option<schemas::Permission>)]
    permission: Option<Permission>,
}

impl From<SurveyQuery> for ListFilter {
    fn from(q: SurveyQuery) -> ListFilter {
        ListFilter {
            permission: q.permission,
            ..ListFilter::default()
        }
    }
}

/// `GET /distributions` filters (SPEC §5: the distribution picker).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct DistributionQuery {
    /// Only this survey's distributions.
    survey: Option<String>,
    /// Only distributions on this schedule: `trigger_based`.
    #[param(value_type = Option<schemas::Schedule>)]
    schedule: Option<Schedule>,
    /// `true`: only distributions that can send (not failed, not expired); `false`: only
    /// those that cannot.
    usable: Option<bool>,
}

impl From<DistributionQuery> for ListFilter {
    fn from(q: DistributionQuery) -> ListFilter {
        ListFilter {
            survey: q.survey,
            schedule: q.schedule,
            usable: q.usable,
            ..ListFilter::default()
        }
    }
}

/// The lists of rules, accounts and users take no filter: any query parameter is refused.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct NoQuery {}

impl From<NoQuery> for ListFilter {
    fn from(_: NoQuery) -> ListFilter {
        ListFilter::default()
    }
}

/// Handlers for one kind of config object; `$tag` groups them in the OpenAPI document.
macro_rules! object_handlers {
    ($kind:expr, $schema:ident, $tag:tt, $many:tt, $one:tt, $query:ty,
     $list:ident, $create:ident, $get:ident, $put:ident, $patch:ident, $delete:ident) => {
        #[doc = concat!("`GET /api/v1", $many, "`: the ones the caller may see.")]
        ///
        /// # Errors
        /// On database failure.
        #[utoipa::path(get, path = $many, tag = $tag, params($query),
            responses((status = 200, description = "The objects the caller may see, in the config file's form, without secrets", body = ObjectPage<$schema>),
                      (status = 400, description = "An unknown or invalid query parameter (named)", body = ErrorBody),
                      (status = 401, description = "No valid token", body = ErrorBody)))]
        pub(crate) async fn $list(
            State(state): State<AppState>,
            Extension(caller): Extension<Caller>,
            ApiQuery(query): ApiQuery<$query>,
        ) -> Result<Json<Value>, ApiError> {
            resources::list(&state, &caller, $kind, &query.into()).await
        }

        #[doc = concat!("`POST /api/v1", $many, "`: creates one (config file form); a new user's first API token is in the answer, shown only this once.")]
        ///
        /// # Errors
        /// 400 malformed, 403 without the right, 409 existing id, 422 invalid (with path).
        #[utoipa::path(post, path = $many, tag = $tag,
            params(("If-Match" = Option<String>, Header, description = "`*`: only if no such object exists")),
            request_body(content = $schema, description = "The object in the config file's form (SPEC §3)"),
            responses((status = 201, description = "Created; the body is the object as stored, with an ETag header", body = $schema),
                      (status = 400, description = "Not a JSON object", body = ErrorBody),
                      (status = 403, description = "The caller lacks the permission named", body = ErrorBody),
                      (status = 409, description = "The id exists, or the change breaks another object", body = ErrorBody),
                      (status = 412, description = "If-Match does not hold", body = ErrorBody),
                      (status = 422, description = "Invalid: the error names the field path", body = ErrorBody)))]
        pub(crate) async fn $create(
            State(state): State<AppState>,
            Extension(caller): Extension<Caller>,
            headers: HeaderMap,
            body: Bytes,
        ) -> Result<Response, ApiError> {
            let written = resources::create(&state, &caller, $kind, &headers, &body).await?;
            Ok(written_response(StatusCode::CREATED, written))
        }

        #[doc = concat!("`GET /api/v1", $one, "` with its `ETag`.")]
        ///
        /// # Errors
        /// 403, 404.
        #[utoipa::path(get, path = $one, tag = $tag,
            params(("id" = String, Path, description = "Object id")),
            responses((status = 200, description = "The object, with an ETag header", body = $schema),
                      (status = 403, description = "The caller lacks the permission named", body = ErrorBody),
                      (status = 404, description = "No such object", body = ErrorBody)))]
        pub(crate) async fn $get(
            State(state): State<AppState>,
            Extension(caller): Extension<Caller>,
            Path(id): Path<String>,
        ) -> Result<Response, ApiError> {
            resources::get_one(&state, &caller, $kind, &id).await
        }

        #[doc = concat!("`PUT /api/v1", $one, "`: replaces it; secrets left out are kept.")]
        ///
        /// # Errors
        /// As create, plus 404 and 412 (If-Match).
        #[utoipa::path(put, path = $one, tag = $tag,
            params(("id" = String, Path, description = "Object id"),
                   ("If-Match" = Option<String>, Header, description = "The ETag read; 412 if the object changed since")),
            request_body(content = $schema, description = "The whole object in the config file's form; its id is the path's"),
            responses((status = 200, description = "Replaced", body = $schema),
                      (status = 403, description = "The caller lacks the permission named", body = ErrorBody),
                      (status = 404, description = "No such object", body = ErrorBody),
                      (status = 409, description = "The change breaks another object", body = ErrorBody),
                      (status = 412, description = "Changed since it was read", body = ErrorBody),
                      (status = 422, description = "Invalid: the error names the field path", body = ErrorBody)))]
        pub(crate) async fn $put(
            State(state): State<AppState>,
            Extension(caller): Extension<Caller>,
            Path(id): Path<String>,
            headers: HeaderMap,
            body: Bytes,
        ) -> Result<Response, ApiError> {
            resources::replace(&state, &caller, $kind, &id, &headers, &body).await
        }

        #[doc = concat!("`PATCH /api/v1", $one, "`: a JSON merge patch (RFC 7396).")]
        ///
        /// # Errors
        /// As PUT.
        #[utoipa::path(patch, path = $one, tag = $tag,
            params(("id" = String, Path, description = "Object id"),
                   ("If-Match" = Option<String>, Header, description = "The ETag read; 412 if the object changed since")),
            request_body(description = "A JSON merge patch (RFC 7396) of the object, e.g. {\"status\":\"paused\"}; `null` removes a field",
                         content((Object = "application/json"), (Object = "application/merge-patch+json"))),
            responses((status = 200, description = "Changed", body = $schema),
                      (status = 403, description = "The caller lacks the permission named", body = ErrorBody),
                      (status = 404, description = "No such object", body = ErrorBody),
                      (status = 409, description = "The change breaks another object", body = ErrorBody),
                      (status = 412, description = "Changed since it was read", body = ErrorBody),
                      (status = 422, description = "Invalid: the error names the field path", body = ErrorBody)))]
        pub(crate) async fn $patch(
            State(state): State<AppState>,
            Extension(caller): Extension<Caller>,
            Path(id): Path<String>,
            headers: HeaderMap,
            body: Bytes,
        ) -> Result<Response, ApiError> {
            resources::patch(&state, &caller, $kind, &id, &headers, &body).await
        }

        #[doc = concat!("`DELETE /api/v1", $one, "`.")]
        ///
        /// # Errors
        /// 403, 404, 409 while other objects use it, 412.
        #[utoipa::path(delete, path = $one, tag = $tag,
            params(("id" = String, Path, description = "Object id"),
                   ("If-Match" = Option<String>, Header, description = "The ETag read; 412 if the object changed since")),
            responses((status = 204, description = "Deleted"),
                      (status = 403, description = "The caller lacks the permission named", body = ErrorBody),
                      (status = 404, description = "No such object", body = ErrorBody),
                      (status = 409, description = "Other objects still use it (the error names one)", body = ErrorBody),
                      (status = 412, description = "Changed since it was read", body = ErrorBody)))]
        pub(crate) async fn $delete(
            State(state): State<AppState>,
            Extension(caller): Extension<Caller>,
            Path(id): Path<String>,
            headers: HeaderMap,
        ) -> Result<impl IntoResponse, ApiError> {
            resources::delete(&state, &caller, $kind, &id, &headers).await
        }
    };
}

object_handlers!(
    Kind::Surveys,
    Survey,
    "surveys",
    "/surveys",
    "/surveys/{id}",
    SurveyQuery,
    list_surveys,
    create_survey,
    get_survey,
    put_survey,
    patch_survey,
    delete_survey
);
object_handlers!(
    Kind::Distributions,
    Distribution,
    "distributions",
    "/distributions",
    "/distributions/{id}",
    DistributionQuery,
    list_distributions,
    create_distribution,
    get_distribution,
    put_distribution,
    patch_distribution,
    delete_distribution
);
object_handlers!(
    Kind::Rules,
    Rule,
    "rules",
    "/rules",
    "/rules/{id}",
    NoQuery,
    list_rules,
    create_rule,
    get_rule,
    put_rule,
    patch_rule,
    delete_rule
);
object_handlers!(
    Kind::Accounts,
    Account,
    "accounts",
    "/accounts",
    "/accounts/{id}",
    NoQuery,
    list_accounts,
    create_account,
    get_account,
    put_account,
    patch_account,
    delete_account
);
object_handlers!(
    Kind::Users,
    User,
    "users",
    "/users",
    "/users/{id}",
    NoQuery,
    list_users,
    create_user,
    get_user,
    put_user,
    patch_user,
    delete_user
);
