//! What every console page shares: the operator using it, the layout's data (navigation,
//! sign-out with its CSRF token) and the pages that answer a failure. An operation's
//! error becomes a page with the error's status, except that a page the operator may
//! not see answers 404, as if it did not exist (SPEC §8).

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use crate::http::html;
use crate::usecase::access::Caller;
use crate::usecase::error::{ApiError, Code};

/// Who is using the console, as the session middleware found them.
#[derive(Clone, Debug)]
pub(crate) struct Operator {
    /// The caller every operation is asked as.
    pub(crate) caller: Caller,
    /// The user's name; `None` on an open console.
    pub(crate) name: Option<String>,
    /// The session's CSRF token, put in every form.
    pub(crate) csrf: String,
    /// The session id the browser presented (absent on the first request of an open
    /// console).
    pub(crate) session: Option<String>,
}

/// The layout's data.
pub(crate) struct Chrome {
    /// The CSRF token for the page's forms.
    pub(crate) csrf: String,
    /// The signed-in user's name (and so a sign-out button).
    pub(crate) user: Option<String>,
    /// Whether the navigation is shown (not on the sign-in page).
    pub(crate) nav: bool,
}

impl Chrome {
    /// The layout of a page shown to `operator`.
    pub(crate) fn of(operator: Option<&Operator>) -> Chrome {
        Chrome {
            csrf: operator.map(|o| o.csrf.clone()).unwrap_or_default(),
            user: operator.and_then(|o| o.name.clone()),
            nav: operator.is_some(),
        }
    }
}

/// The console's pages are in English.
pub(crate) const LANG: &str = "en";

/// A title and a sentence.
#[derive(Template)]
#[template(path = "console/message.html")]
struct MessagePage<'a> {
    lang: &'a str,
    title: &'a str,
    message: &'a str,
    chrome: Chrome,
}

/// A page that only says something.
pub(crate) fn message(
    status: StatusCode,
    operator: Option<&Operator>,
    title: &str,
    text: &str,
) -> Response {
    html::page(
        status,
        &MessagePage {
            lang: LANG,
            title,
            message: text,
            chrome: Chrome::of(operator),
        },
    )
}

/// The page of an operation's error while reading: 404 when the operator may not see
/// the thing (or it does not exist), the error's own status and sentence otherwise.
pub(crate) fn failure(operator: Option<&Operator>, error: ApiError) -> Response {
    match error.code() {
        Code::Forbidden | Code::NotFound => message(
            StatusCode::NOT_FOUND,
            operator,
            "Not found",
            "There is nothing here that you may see.",
        ),
        _ => refused(operator, error),
    }
}

/// The page of an operation's error while changing something: the error's status and
/// sentence (an internal error says only that).
pub(crate) fn refused(operator: Option<&Operator>, error: ApiError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        return message(
            status,
            operator,
            "Something went wrong",
            "The service could not do this now; the cause is in its log. Try again later.",
        );
    }
    let title = if status == StatusCode::FORBIDDEN {
        "Not allowed"
    } else {
        "Not done"
    };
    message(status, operator, title, error.message())
}

/// Any console path no page serves.
pub(crate) async fn not_found(axum::Extension(operator): axum::Extension<Operator>) -> Response {
    message(
        StatusCode::NOT_FOUND,
        Some(&operator),
        "Not found",
        "There is no such page in the console.",
    )
}
