//! Builders of the exec routes (API v1.15+: `/containers/{name}/exec`,
//! `/exec/{id}/...`).

use engine::names::{env, exec as jobs};
use http::StatusCode;

use crate::containers::dimensions;
use crate::errors::ApiError;
use crate::request::ApiRequest;
use crate::route::{Failure, JobSpec, Reply, Streams, TtyFrom};

/// `POST /containers/{name}/exec` with the exec config as the body.
pub fn create(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let body = req.required_json_object()?;
    Ok(JobSpec::new(jobs::CREATE, Reply::Json(StatusCode::CREATED)).arg(&req.name).env(env::BODY, body.to_string()))
}

/// `POST /exec/{id}/start` with `{"Detach":..,"Tty":..}`.
///
/// Attached, the connection is hijacked after `exec_inspect` found the exec
/// (404 before any stream); the body's `Tty` decides the framing, as dockerd
/// does, and without one the exec's own `ProcessConfig.tty`. Detached, the
/// job runs and the answer is an empty 200.
pub fn start(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let body = req.json_object()?;
    let flag = |key: &str| body.as_ref().and_then(|b| b.get(key)).and_then(serde_json::Value::as_bool);
    let reply = if flag("Detach").unwrap_or(false) {
        Reply::Empty(StatusCode::OK)
    } else {
        let tty = flag("Tty").map_or(TtyFrom::Probe("/ProcessConfig/tty"), TtyFrom::Given);
        Reply::Hijack(Streams { probe: jobs::INSPECT, tty, failure: Failure::Exec })
    };
    let mut spec = JobSpec::new(jobs::START, reply).arg(&req.name);
    if let Some(body) = body {
        spec = spec.env(env::BODY, body.to_string());
    }
    Ok(spec)
}

/// `POST /exec/{id}/resize?h=&w=`.
pub fn resize(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let (h, w) = dimensions(req)?;
    Ok(JobSpec::new(jobs::RESIZE, Reply::Empty(StatusCode::CREATED)).arg(&req.name).arg(h).arg(w))
}

/// `GET /exec/{id}/json`.
pub fn inspect(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(JobSpec::new(jobs::INSPECT, Reply::Json(StatusCode::OK)).arg(&req.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::API_VERSION;
    use bytes::Bytes;
    use http::Method;

    #[test]
    fn exec_routes() {
        let mut req = ApiRequest::new(Method::POST, API_VERSION, "web");
        assert!(create(&req).is_err());
        req.body = Bytes::from_static(br#"{"Cmd":["echo","hi"],"AttachStdout":true}"#);
        let spec = create(&req).unwrap();
        assert_eq!(spec.args, ["web"]);
        assert_eq!(spec.reply, Reply::Json(StatusCode::CREATED));
        let streams = |tty| Reply::Hijack(Streams { probe: "exec_inspect", tty, failure: Failure::Exec });
        assert_eq!(start(&req).unwrap().reply, streams(TtyFrom::Probe("/ProcessConfig/tty")));
        req.body = Bytes::from_static(br#"{"Detach":false,"Tty":true}"#);
        assert_eq!(start(&req).unwrap().reply, streams(TtyFrom::Given(true)));
        req.body = Bytes::from_static(br#"{"Detach":true,"Tty":false}"#);
        assert_eq!(start(&req).unwrap().reply, Reply::Empty(StatusCode::OK));
        let req = req.with_query("h=10&w=20");
        assert_eq!(resize(&req).unwrap().args, ["web", "10", "20"]);
    }
}
