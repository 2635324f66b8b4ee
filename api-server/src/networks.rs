//! Builders of the network and volume routes (API v1.21+), which compose
//! uses for its default network and `docker network`/`volume` commands.

use engine::names::{env, network as jobs};
use http::StatusCode;

use crate::errors::ApiError;
use crate::request::ApiRequest;
use crate::route::{JobSpec, Reply};

fn with_body(spec: JobSpec, req: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(spec.env(env::BODY, req.required_json_object()?.to_string()))
}

/// `GET /networks?filters=`.
pub fn list(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    JobSpec::new(jobs::LIST, Reply::Json(StatusCode::OK)).filters_from(req)
}

/// `GET /networks/{id}`.
pub fn inspect(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(JobSpec::new(jobs::INSPECT, Reply::Json(StatusCode::OK)).arg(&req.name))
}

/// `POST /networks/create`.
pub fn create(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    with_body(JobSpec::new(jobs::CREATE, Reply::Json(StatusCode::CREATED)), req)
}

/// `POST /networks/{id}/connect`.
pub fn connect(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    with_body(JobSpec::new(jobs::CONNECT, Reply::Empty(StatusCode::OK)).arg(&req.name), req)
}

/// `POST /networks/{id}/disconnect`.
pub fn disconnect(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    with_body(JobSpec::new(jobs::DISCONNECT, Reply::Empty(StatusCode::OK)).arg(&req.name), req)
}

/// `DELETE /networks/{id}`.
pub fn delete(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(JobSpec::new(jobs::DELETE, Reply::Empty(StatusCode::NO_CONTENT)).arg(&req.name))
}

/// `GET /volumes?filters=`.
pub fn volume_list(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    JobSpec::new(jobs::VOLUME_LIST, Reply::Json(StatusCode::OK)).filters_from(req)
}

/// `POST /volumes/create`.
pub fn volume_create(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    with_body(JobSpec::new(jobs::VOLUME_CREATE, Reply::Json(StatusCode::CREATED)), req)
}

/// `GET /volumes/{name}`.
pub fn volume_inspect(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(JobSpec::new(jobs::VOLUME_INSPECT, Reply::Json(StatusCode::OK)).arg(&req.name))
}

/// `DELETE /volumes/{name}`.
pub fn volume_delete(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(JobSpec::new(jobs::VOLUME_DELETE, Reply::Empty(StatusCode::NO_CONTENT)).arg(&req.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::API_VERSION;
    use bytes::Bytes;
    use http::Method;

    #[test]
    fn network_routes() {
        let mut req = ApiRequest::new(Method::POST, API_VERSION, "capnet_default");
        assert!(create(&req).is_err());
        req.body = Bytes::from_static(br#"{"Name":"capnet_default","CheckDuplicate":true}"#);
        assert_eq!(create(&req).unwrap().reply, Reply::Json(StatusCode::CREATED));
        assert_eq!(connect(&req).unwrap().args, ["capnet_default"]);
        let req = req.with_query(r#"filters={"name":["x"]}"#);
        assert_eq!(list(&req).unwrap().env.get("filters"), r#"{"name":["x"]}"#);
        assert_eq!(volume_delete(&req).unwrap().reply, Reply::Empty(StatusCode::NO_CONTENT));
    }
}
