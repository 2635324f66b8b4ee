//! Builders of the system routes: version, info, events, auth, search,
//! commit and build.

use engine::names::{self, env};
use http::StatusCode;

use crate::errors::ApiError;
use crate::request::ApiRequest;
use crate::route::{JobSpec, Reply};

/// `GET /version`.
pub fn version(_: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(JobSpec::new(names::VERSION, Reply::Json(StatusCode::OK)))
}

/// `GET /info`.
pub fn info(_: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(JobSpec::new(names::INFO, Reply::Json(StatusCode::OK)))
}

/// `GET /events?since=&until=&filters=`.
pub fn events(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let mut spec = JobSpec::new(names::EVENTS, Reply::JsonStream);
    for key in [env::SINCE, env::UNTIL] {
        if let Some(raw) = req.query(key).filter(|v| !v.is_empty()) {
            validate_timestamp(key, raw)?;
            spec = spec.env(key, raw);
        }
    }
    spec.filters_from(req)
}

/// Unix seconds, optionally with a fraction (`1700000000.123456789`), which
/// is what clients send after converting dates themselves.
fn validate_timestamp(key: &str, raw: &str) -> Result<(), ApiError> {
    let (secs, frac) = raw.split_once('.').unwrap_or((raw, "0"));
    let numeric = |s: &str| !s.is_empty() && s.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit());
    if numeric(secs) && frac.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ApiError::bad_parameter(format!("invalid value for {key}: {raw:?} is not a Unix timestamp")))
    }
}

/// `POST /auth` with an AuthConfig JSON body.
pub fn auth(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let body = req.required_json_object()?;
    Ok(JobSpec::new(names::registry::AUTH, Reply::Json(StatusCode::OK)).env(env::AUTH_CONFIG, body.to_string()))
}

/// `GET /images/search?term=`.
pub fn search(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let term = req.query_str("term");
    if term.is_empty() {
        return Err(ApiError::bad_parameter("search term is required: use ?term=NAME"));
    }
    let mut spec = JobSpec::new(names::registry::SEARCH, Reply::Json(StatusCode::OK))
        .arg(term)
        .env(env::AUTH_CONFIG, req.registry_auth())
        .env(env::META_HEADERS, req.meta_headers());
    if let Some(limit) = req.query_int("limit")? {
        spec = spec.env("limit", limit.to_string());
    }
    Ok(spec)
}

/// `POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes=`,
/// with an optional Config body.
pub fn commit(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let container = req.query_str("container");
    if container.is_empty() {
        return Err(ApiError::bad_parameter("container is required: use ?container=NAME"));
    }
    let mut spec = JobSpec::new(names::container::COMMIT, Reply::Json(StatusCode::CREATED)).arg(container);
    for key in ["repo", "tag", "comment", "author"] {
        spec = spec.env(key, req.query_str(key));
    }
    // Pausing during commit is the default from v1.13 on.
    let pause = req.query("pause").filter(|v| !v.is_empty()).is_none_or(engine::parse_bool);
    spec = spec.env_bool("pause", pause);
    spec.env.set_list("changes", &req.query_all("changes"));
    if let Some(config) = req.json_object()? {
        spec = spec.env(env::BODY, config.to_string());
    }
    Ok(spec)
}

/// `POST /build` with the context tar as the body.
pub fn build(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let mut spec = JobSpec::new(names::container::BUILD, Reply::JsonStream);
    for key in ["dockerfile", "t", "remote", "buildargs", "labels", "cpusetcpus", "cgroupparent"] {
        spec = spec.env(key, req.query_str(key));
    }
    for key in ["q", "nocache", "forcerm", "pull"] {
        spec = spec.env_bool(key, req.query_bool(key));
    }
    // `rm` defaults to true (v1.12+), and `forcerm` implies it.
    let rm = req.query("rm").filter(|v| !v.is_empty()).is_none_or(engine::parse_bool) || req.query_bool("forcerm");
    spec = spec.env_bool("rm", rm);
    for key in ["memory", "memswap", "cpushares", "cpuquota", "cpuperiod", "shmsize"] {
        if let Some(v) = req.query_int(key)? {
            spec = spec.env(key, v.to_string());
        }
    }
    let config = req.header("X-Registry-Config").unwrap_or("");
    Ok(spec.env("registryConfig", config).env(env::AUTH_CONFIG, req.registry_auth()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::API_VERSION;
    use bytes::Bytes;
    use http::Method;

    fn req(query: &str) -> ApiRequest {
        ApiRequest::new(Method::GET, API_VERSION, "").with_query(query)
    }

    #[test]
    fn events_pass_times_and_normalised_filters() {
        let spec = events(&req(r#"since=1700000000&until=1700000001.5&filters={"type":{"container":true}}"#)).unwrap();
        assert_eq!(spec.name, "events");
        assert_eq!(spec.env.get("since"), "1700000000");
        assert_eq!(spec.env.get("until"), "1700000001.5");
        assert_eq!(spec.env.get("filters"), r#"{"type":["container"]}"#);
        assert!(events(&req("since=yesterday")).is_err());
        assert!(events(&req("filters=nope")).is_err());
        assert!(!events(&req("")).unwrap().env.exists("since"));
    }

    #[test]
    fn auth_requires_a_json_body() {
        let mut r = req("");
        assert!(auth(&r).is_err());
        r.body = Bytes::from_static(br#"{"username":"u","password":"p","serveraddress":"127.0.0.1:5000"}"#);
        let spec = auth(&r).unwrap();
        assert_eq!(spec.env.get_json::<serde_json::Value>("authConfig").unwrap().unwrap()["username"], "u");
    }

    #[test]
    fn search_needs_a_term() {
        assert!(search(&req("")).is_err());
        let spec = search(&req("term=busybox&limit=5")).unwrap();
        assert_eq!(spec.args, ["busybox"]);
        assert_eq!(spec.env.get("limit"), "5");
        assert_eq!(spec.env.get("authConfig"), "{}");
    }

    #[test]
    fn commit_defaults_pause_and_takes_changes() {
        let spec = commit(&req("container=web&repo=docker.io%2Fx%2Fy&tag=a&changes=CMD+ls&changes=ENV+A%3D1")).unwrap();
        assert_eq!(spec.args, ["web"]);
        assert_eq!(spec.env.get("repo"), "docker.io/x/y");
        assert!(spec.env.get_bool("pause"));
        assert_eq!(spec.env.get_list("changes").unwrap(), ["CMD ls", "ENV A=1"]);
        assert!(!commit(&req("container=web&pause=0")).unwrap().env.get_bool("pause"));
        assert!(commit(&req("")).is_err());
        assert_eq!(commit(&req("container=web")).unwrap().reply, Reply::Json(StatusCode::CREATED));
    }

    #[test]
    fn build_defaults_rm() {
        let spec = build(&req("t=x%3Aa&dockerfile=Dockerfile")).unwrap();
        assert!(spec.env.get_bool("rm"));
        assert_eq!(spec.env.get("t"), "x:a");
        assert!(!build(&req("rm=0")).unwrap().env.get_bool("rm"));
        assert!(build(&req("rm=0&forcerm=1")).unwrap().env.get_bool("rm"));
        assert!(build(&req("memory=lots")).is_err());
    }
}
