//! Builders of the exec routes (API v1.15+: `/containers/{name}/exec`,
//! `/exec/{id}/...`).

use engine::names::{env, exec as jobs};
use http::StatusCode;

use crate::containers::dimensions;
use crate::errors::ApiError;
use crate::request::ApiRequest;
use crate::route::{JobSpec, Reply};

/// `POST /containers/{name}/exec` with the exec config as the body.
pub fn create(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let body = req.required_json_object()?;
    Ok(JobSpec::new(jobs::CREATE, Reply::Json(StatusCode::CREATED)).arg(&req.name).env(env::BODY, body.to_string()))
}

/// `POST /exec/{id}/start` with `{"Detach":..,"Tty":..}`.
pub fn start(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let mut spec = JobSpec::new(jobs::START, Reply::Hijack).arg(&req.name);
    if let Some(body) = req.json_object()? {
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
        let spec = start(&req).unwrap();
        assert_eq!(spec.reply, Reply::Hijack);
        let req = req.with_query("h=10&w=20");
        assert_eq!(resize(&req).unwrap().args, ["web", "10", "20"]);
    }
}
