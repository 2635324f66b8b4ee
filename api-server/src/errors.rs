//! Errors of the API server and their HTTP statuses.
//!
//! A job that states its failure kind gets the status of that kind. Text
//! from jobs that do not state one goes through Docker's substring rules —
//! case-insensitive, as dockerd 1.12 does (1.2 matched `No such` with a
//! capital N only, so `wait: no such container` was a 500 there and clients
//! expecting 404 for missing things tripped over it).

use engine::{ErrorKind, JobError};
use http::StatusCode;

/// An error to answer a request with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// What kind of failure it is.
    pub kind: ErrorKind,
    /// The text the client sees.
    pub message: String,
}

impl ApiError {
    /// An error of a given kind.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// A malformed request (400).
    pub fn bad_parameter(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadParameter, message)
    }

    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        status_of(self.kind, &self.message)
    }
}

impl From<JobError> for ApiError {
    fn from(e: JobError) -> Self {
        Self { kind: e.kind, message: e.message }
    }
}

/// The HTTP status of an error kind; `Unknown` falls back to the text.
pub fn status_of(kind: ErrorKind, message: &str) -> StatusCode {
    match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::BadParameter => StatusCode::BAD_REQUEST,
        ErrorKind::NotModified => StatusCode::NOT_MODIFIED,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
        ErrorKind::NotImplemented => StatusCode::NOT_IMPLEMENTED,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorKind::Unknown => status_from_text(message),
    }
}

/// dockerd 1.12's `httputils.WriteError` rules, first match wins.
fn status_from_text(message: &str) -> StatusCode {
    let text = message.to_lowercase();
    let rules: [(&str, StatusCode); 8] = [
        ("not found", StatusCode::NOT_FOUND),
        ("no such", StatusCode::NOT_FOUND),
        ("bad parameter", StatusCode::BAD_REQUEST),
        ("conflict", StatusCode::CONFLICT),
        ("impossible", StatusCode::NOT_ACCEPTABLE),
        ("wrong login/password", StatusCode::UNAUTHORIZED),
        ("unauthorized", StatusCode::UNAUTHORIZED),
        ("hasn't been activated", StatusCode::FORBIDDEN),
    ];
    rules.iter().find(|(needle, _)| text.contains(needle)).map_or(StatusCode::INTERNAL_SERVER_ERROR, |(_, s)| *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_statuses() {
        assert_eq!(status_of(ErrorKind::NotFound, "whatever"), StatusCode::NOT_FOUND);
        assert_eq!(status_of(ErrorKind::Conflict, ""), StatusCode::CONFLICT);
        assert_eq!(status_of(ErrorKind::NotModified, ""), StatusCode::NOT_MODIFIED);
        assert_eq!(status_of(ErrorKind::Internal, "No such thing"), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn unknown_kinds_fall_back_to_the_text() {
        let s = |m| status_of(ErrorKind::Unknown, m);
        assert_eq!(s("No such container: web"), StatusCode::NOT_FOUND);
        assert_eq!(s("wait: no such container: web"), StatusCode::NOT_FOUND);
        assert_eq!(s("Tag x not found in repository y"), StatusCode::NOT_FOUND);
        assert_eq!(s("Bad parameter: x"), StatusCode::BAD_REQUEST);
        assert_eq!(s("Conflict, The name web is already assigned"), StatusCode::CONFLICT);
        assert_eq!(s("Container x not found. Impossible to mount its volumes"), StatusCode::NOT_FOUND);
        assert_eq!(s("Impossible to attach"), StatusCode::NOT_ACCEPTABLE);
        assert_eq!(s("Wrong login/password, please try again"), StatusCode::UNAUTHORIZED);
        assert_eq!(s("something broke"), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
