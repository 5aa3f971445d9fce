//! Case ingestion: `PUT`/`PATCH /cases/{id}`, `POST /cases:batch`, `GET /cases/{id}`.
//!
//! A 2xx answer means the new state and its event are committed (the event outbox is
//! written in the same transaction). An unchanged case writes nothing and emits nothing.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use closeloop_domain::case::Case;
use serde::Deserialize as _;
use serde_json::Value;

use futures_util::StreamExt as _;
use http_body_util::BodyExt as _;
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _, AsyncWriteExt as _};

use crate::http::extract::{from_value, parse_json};
use crate::http::limits;
use crate::http::openapi::ErrorBody;
use crate::http::schemas::{BatchAnswer, BatchBody, CaseBody, CasePatch, CaseView, CaseWritten};
use crate::http::AppState;
use crate::usecase::access::Caller;
use crate::usecase::case_view;
use crate::usecase::error::{ApiError, Code};
use crate::usecase::ingest::{self, keep_rule_owned_fields};

/// Header carrying a client's idempotency key.
pub(crate) const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// `PUT /api/v1/cases/{id}`: upsert the full case state.
#[utoipa::path(put, path = "/cases/{id}", tag = "cases",
    params(("id" = String, Path, description = "Case id: 1–200 characters", min_length = 1, max_length = 200, pattern = r"\S"),
           ("Idempotency-Key" = Option<String>, Header, description = "Same key within 24 h: the first answer, nothing done again", min_length = 1, max_length = 255)),
    request_body(content = CaseBody, description = "The full case state (SPEC §5.1)"),
    responses((status = 202, description = "Changed: `{event_id, kind, changed}`", body = CaseWritten),
              (status = 200, description = "Unchanged: `{changed: []}`", body = CaseWritten),
              (status = 400, description = "Malformed, with the field path; or the body's id is not the path's", body = ErrorBody),
              (status = 503, description = "The service is shutting down; retry", body = ErrorBody)))]
pub(crate) async fn put_case(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let value: Value = parse_json(&body)?;
    let queue_given = mentions_queue(&value);
    let incoming = case_from_body(value, &id)?;
    let key = idempotency_key(&headers, "PUT", &id)?;
    write_update(&state, &id, key.as_deref(), move |stored| {
        Ok(keep_rule_owned_fields(stored, incoming, queue_given))
    })
    .await
}

/// `PATCH /api/v1/cases/{id}`: a JSON merge patch (RFC 7396) of the stored case.
#[utoipa::path(patch, path = "/cases/{id}", tag = "cases",
    params(("id" = String, Path, description = "Case id", min_length = 1, max_length = 200, pattern = r"\S"),
           ("Idempotency-Key" = Option<String>, Header, description = "Same key within 24 h: the first answer, nothing done again", min_length = 1, max_length = 255)),
    request_body(description = "A JSON merge patch (RFC 7396) of the case",
                 content((CasePatch = "application/json"), (CasePatch = "application/merge-patch+json"))),
    responses((status = 202, description = "Changed", body = CaseWritten),
              (status = 200, description = "Unchanged", body = CaseWritten),
              (status = 400, description = "Malformed, with the field path", body = ErrorBody),
              (status = 404, description = "No such case", body = ErrorBody),
              (status = 503, description = "The service is shutting down; retry", body = ErrorBody)))]
pub(crate) async fn patch_case(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let patch: Value = parse_json(&body)?;
    if !patch.is_object() {
        return Err(ApiError::new(
            Code::InvalidPatch,
            "a merge patch must be a JSON object",
        ));
    }
    if let Some(patched_id) = patch.get("id") {
        if patched_id != &Value::String(id.clone()) {
            return Err(ApiError::new(Code::IdMismatch, "the id of a case cannot change").at("id"));
        }
    }
    let key = idempotency_key(&headers, "PATCH", &id)?;
    let case_id = id.clone();
    write_update(&state, &id, key.as_deref(), move |stored| {
        let Some(stored) = stored else {
            return Err(ApiError::not_found("case", &case_id));
        };
        let mut document = serde_json::to_value(stored).map_err(ApiError::internal)?;
        json_patch::merge(&mut document, &patch);
        case_from_body(document, &case_id)
    })
    .await
}

/// `POST /api/v1/cases:batch`: NDJSON, one case per line; malformed lines are rejected
/// with their line number while the others are accepted.
///
/// The body is read as it arrives, never held whole: every [`CHUNK_LINES`] lines (or
/// [`CHUNK_BYTES`]) are applied in their own transaction, and each line's result is
/// spooled to an unnamed temporary file, from which the answer is streamed. A line longer
/// than 256 KiB is rejected alone (413 in its result). If the database fails part way,
/// the chunks before are kept and the answer is 500: sending the batch again is safe, as
/// an unchanged case emits nothing.
#[utoipa::path(post, path = "/cases:batch", tag = "cases",
    request_body(content = BatchBody, content_type = "application/x-ndjson",
                 description = "One case per line (`application/x-ndjson`), any number of lines, each at most 256 KiB: each line is a JSON object in the shape of `CaseState`, with its `id`; blank lines are skipped"),
    responses((status = 202, description = "Per-line results (line numbers of rejected lines)", body = BatchAnswer),
              (status = 400, description = "No case line at all, or the body broke off", body = ErrorBody),
              (status = 408, description = "The body stalled for longer than the body timeout", body = ErrorBody)))]
pub(crate) async fn batch(State(state): State<AppState>, body: Body) -> Result<Response, ApiError> {
    let _intake = state.intake.enter();
    let mut lines = NdjsonLines::new(body, state.http.body_timeout);
    let mut spool = Spool::new().await?;
    let mut chunk = Vec::new();
    let mut chunk_bytes = 0;
    let mut arrived = Vec::new();
    while lines.next_lines(&mut arrived).await? {
        for (number, line) in arrived.drain(..) {
            let parsed = match line {
                Line::Text(bytes) => {
                    if bytes.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    chunk_bytes += bytes.len();
                    match std::str::from_utf8(&bytes) {
                        Ok(text) => parse_batch_line(text),
                        Err(_) => Err(ApiError::new(Code::InvalidBody, "the line is not UTF-8")),
                    }
                }
                Line::TooLong => Err(limits::too_large("the line", limits::BATCH_LINE)),
            };
            chunk.push((number, parsed));
        }
        if chunk.len() >= CHUNK_LINES || chunk_bytes >= CHUNK_BYTES {
            spool.apply(&state, std::mem::take(&mut chunk)).await?;
            chunk_bytes = 0;
        }
    }
    if !chunk.is_empty() {
        spool.apply(&state, chunk).await?;
    }
    if spool.accepted + spool.rejected == 0 {
        return Err(ApiError::new(
            Code::InvalidBody,
            "the batch has no case line",
        ));
    }
    spool.answer().await
}

/// Lines applied in one transaction.
const CHUNK_LINES: usize = 1000;
/// Bytes of lines applied in one transaction.
const CHUNK_BYTES: usize = 2 * 1024 * 1024;

/// One line of an NDJSON body.
enum Line {
    /// Its bytes, without the line break.
    Text(Vec<u8>),
    /// Longer than [`limits::BATCH_LINE`]; its bytes were dropped as they came.
    TooLong,
}

/// Splits a streamed body into numbered lines, holding at most one line.
struct NdjsonLines {
    body: Body,
    timeout: std::time::Duration,
    pending: Vec<u8>,
    too_long: bool,
    number: usize,
    done: bool,
}

impl NdjsonLines {
    fn new(body: Body, timeout: std::time::Duration) -> NdjsonLines {
        NdjsonLines {
            body,
            timeout,
            pending: Vec::new(),
            too_long: false,
            number: 0,
            done: false,
        }
    }

    /// Appends the lines completed by the next piece of the body; false at its end.
    async fn next_lines(&mut self, out: &mut Vec<(usize, Line)>) -> Result<bool, ApiError> {
        if self.done {
            return Ok(false);
        }
        let frame = tokio::time::timeout(self.timeout, self.body.frame())
            .await
            .map_err(|_| limits::too_slow(self.timeout))?;
        let Some(frame) = frame else {
            self.done = true;
            if !self.pending.is_empty() || self.too_long {
                self.finish_line(&[], out);
            }
            return Ok(true);
        };
        let frame = frame
            .map_err(|e| ApiError::new(Code::InvalidBody, format!("the body broke off: {e}")))?;
        let Ok(mut data) = frame.into_data() else {
            return Ok(true);
        };
        while let Some(end) = data.iter().position(|b| *b == b'\n') {
            self.finish_line(&data[..end], out);
            data = data.slice(end + 1..);
        }
        if !self.too_long {
            self.pending.extend_from_slice(&data);
            if self.pending.len() > limits::BATCH_LINE {
                self.too_long = true;
                self.pending = Vec::new();
            }
        }
        Ok(true)
    }

    fn finish_line(&mut self, tail: &[u8], out: &mut Vec<(usize, Line)>) {
        self.number += 1;
        let line = if self.too_long || self.pending.len() + tail.len() > limits::BATCH_LINE {
            self.pending.clear();
            Line::TooLong
        } else {
            let mut bytes = std::mem::take(&mut self.pending);
            bytes.extend_from_slice(tail);
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
            Line::Text(bytes)
        };
        self.too_long = false;
        out.push((self.number, line));
    }
}

/// The per-line results of a batch, on disk until the answer is streamed, so memory does
/// not grow with the batch.
struct Spool {
    file: tokio::io::BufWriter<tokio::fs::File>,
    accepted: usize,
    rejected: usize,
    written: usize,
}

impl Spool {
    async fn new() -> Result<Spool, ApiError> {
        let file = tempfile::tempfile().map_err(ApiError::internal)?;
        Ok(Spool {
            file: tokio::io::BufWriter::new(tokio::fs::File::from_std(file)),
            accepted: 0,
            rejected: 0,
            written: 0,
        })
    }

    /// Applies one chunk in its own transaction and spools its results.
    async fn apply(
        &mut self,
        state: &AppState,
        chunk: Vec<ingest::BatchLine>,
    ) -> Result<(), ApiError> {
        let outcome = ingest::apply_batch(state, chunk).await?;
        for result in &outcome.results {
            if self.written > 0 {
                self.file
                    .write_all(b",")
                    .await
                    .map_err(ApiError::internal)?;
            }
            let bytes = serde_json::to_vec(result).map_err(ApiError::internal)?;
            self.file
                .write_all(&bytes)
                .await
                .map_err(ApiError::internal)?;
            self.written += 1;
        }
        self.accepted += outcome.accepted;
        self.rejected += outcome.rejected;
        Ok(())
    }

    /// The 202 answer, streamed from the spool.
    async fn answer(mut self) -> Result<Response, ApiError> {
        self.file.flush().await.map_err(ApiError::internal)?;
        let mut file = self.file.into_inner();
        file.seek(std::io::SeekFrom::Start(0))
            .await
            .map_err(ApiError::internal)?;
        let head = format!(
            "{{\"accepted\":{},\"rejected\":{},\"results\":[",
            self.accepted, self.rejected
        );
        let results = futures_util::stream::unfold(file, |mut file| async move {
            let mut buffer = vec![0; 64 * 1024];
            match file.read(&mut buffer).await {
                Ok(0) => None,
                Ok(n) => {
                    buffer.truncate(n);
                    Some((Ok(Bytes::from(buffer)), file))
                }
                Err(e) => Some((Err(e), file)),
            }
        });
        let body = futures_util::stream::once(async move { Ok(Bytes::from(head)) })
            .chain(results)
            .chain(futures_util::stream::once(async {
                Ok::<_, std::io::Error>(Bytes::from_static(b"]}"))
            }));
        Ok((
            StatusCode::ACCEPTED,
            [(header::CONTENT_TYPE, "application/json")],
            Body::from_stream(body),
        )
            .into_response())
    }
}

/// `GET /api/v1/cases/{id}`: the state, queue and invites of a case.
#[utoipa::path(get, path = "/cases/{id}", tag = "cases",
    params(("id" = String, Path, description = "Case id")),
    responses((status = 200, description = "State, queue, and the invites of surveys the caller may see", body = CaseView),
              (status = 404, description = "No such case", body = ErrorBody)))]
pub(crate) async fn get_case(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    case_view::case(&state, &caller, &id).await.map(Json)
}

/// Hands the update to the group-commit writer and answers once it is committed.
async fn write_update(
    state: &AppState,
    id: &str,
    key: Option<&str>,
    make: impl FnOnce(Option<&Case>) -> Result<Case, ApiError> + Send + 'static,
) -> Result<Response, ApiError> {
    let answer = state
        .ingest
        .submit(id.to_string(), key.map(str::to_string), Box::new(make))
        .await?;
    let status = if answer.changed {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    if answer.replayed {
        return Ok((status, [("idempotent-replayed", "true")], Json(answer.body)).into_response());
    }
    Ok((status, Json(answer.body)).into_response())
}

/// The idempotency key scoped to the method and case, so one key cannot replay the
/// answer of a different request.
fn idempotency_key(
    headers: &HeaderMap,
    method: &str,
    id: &str,
) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            ApiError::new(
                Code::InvalidIdempotencyKey,
                "Idempotency-Key must be 1–255 visible ASCII characters",
            )
        })?;
    Ok(Some(format!("{method} /cases/{id} {key}")))
}

/// Parses a case body, taking the id from the path when the body has none.
fn case_from_body(mut value: Value, id: &str) -> Result<Case, ApiError> {
    let Some(object) = value.as_object_mut() else {
        return Err(ApiError::new(
            Code::InvalidField,
            "a case must be a JSON object",
        ));
    };
    match object.get("id") {
        None => {
            object.insert("id".into(), Value::String(id.to_string()));
        }
        Some(Value::String(body_id)) if body_id == id => {}
        Some(_) => {
            return Err(ApiError::new(
                Code::IdMismatch,
                format!("the body's id must be {id:?}, the id in the path"),
            )
            .at("id"));
        }
    }
    let case: Case = from_value(value)?;
    validate_case(&case)?;
    Ok(case)
}

fn parse_batch_line(line: &str) -> Result<(Case, bool), ApiError> {
    // The common, valid line is read straight into a case; anything else (a NUL escape
    // included) takes the general path, which names the field that is wrong.
    let fast = !line.contains("\\u0000");
    if let Some(case) = fast
        .then(|| serde_json::from_str::<Case>(line).ok())
        .flatten()
    {
        if !case.id.is_empty() {
            validate_case(&case)?;
            let queue_given = line.contains("\"queue\"") && mentions_queue_in(line);
            return Ok((case, queue_given));
        }
    }
    let value: Value = parse_json(line.as_bytes())?;
    let queue_given = mentions_queue(&value);
    let has_id = value
        .get("id")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    if !has_id {
        return Err(ApiError::new(Code::InvalidField, "each line needs a string \"id\"").at("id"));
    }
    let case: Case = from_value(value)?;
    validate_case(&case)?;
    Ok((case, queue_given))
}

/// Whether a case line has a top-level `queue` key (null included), read without
/// building the line's values.
fn mentions_queue_in(line: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct TopLevel {
        #[serde(default, deserialize_with = "present")]
        queue: bool,
    }
    fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| true)
    }
    serde_json::from_str::<TopLevel>(line).is_ok_and(|t| t.queue)
}

fn validate_case(case: &Case) -> Result<(), ApiError> {
    if case.id.trim().is_empty() || case.id.chars().count() > 200 {
        return Err(
            ApiError::new(Code::InvalidField, "a case id must be 1–200 characters").at("id"),
        );
    }
    if case.status.trim().is_empty() {
        return Err(ApiError::new(Code::InvalidField, "status must not be empty").at("status"));
    }
    Ok(())
}

fn mentions_queue(value: &Value) -> bool {
    value.as_object().is_some_and(|o| o.contains_key("queue"))
}
