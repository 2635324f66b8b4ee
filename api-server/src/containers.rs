//! Builders of the container routes (`/containers/...`).
//!
//! The create body carries `HostConfig` too: today's CLI never sends one to
//! `start`, so the daemon reads it from create at every version; `start`
//! still passes a body along for old clients.

use engine::names::{container as jobs, env};
use http::StatusCode;

use crate::errors::ApiError;
use crate::request::ApiRequest;
use crate::route::{Failure, JobSpec, Reply, Stat, Streams, TtyFrom};

fn named(job: &'static str, reply: Reply, req: &ApiRequest) -> JobSpec {
    JobSpec::new(job, reply).arg(&req.name)
}

/// A container's streams: `container_inspect` first (404 before any
/// stream; `Config.Tty` decides the framing).
const fn container_streams(failure: Failure) -> Streams {
    Streams { probe: jobs::INSPECT, tty: TtyFrom::Probe("/Config/Tty"), failure }
}

/// `GET /containers/json` (and the legacy `/containers/ps`).
pub fn list(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let mut spec = JobSpec::new(jobs::LIST, Reply::Json(StatusCode::OK))
        .env_bool("all", req.query_bool("all"))
        .env_bool("size", req.query_bool("size"))
        .env("since", req.query_str("since"))
        .env("before", req.query_str("before"));
    if let Some(limit) = req.query_int("limit")? {
        spec = spec.env("limit", limit.to_string());
    }
    spec.filters_from(req)
}

/// `POST /containers/create?name=` with Config (and HostConfig) as the body.
pub fn create(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let body = req.required_json_object()?;
    Ok(JobSpec::new(jobs::CREATE, Reply::Json(StatusCode::CREATED))
        .arg(req.query_str("name"))
        .env(env::BODY, body.to_string())
        .env(env::API_VERSION, req.version.to_string()))
}

/// `GET /containers/{name}/json`.
pub fn inspect(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(named(jobs::INSPECT, Reply::Json(StatusCode::OK), req)
        .env_bool("size", req.query_bool("size"))
        .env(env::API_VERSION, req.version.to_string()))
}

/// `GET /containers/{name}/top?ps_args=`.
pub fn top(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(named(jobs::TOP, Reply::Json(StatusCode::OK), req).arg(req.query_str("ps_args")))
}

/// `GET /containers/{name}/logs`.
pub fn logs(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let (stdout, stderr) = (req.query_bool("stdout"), req.query_bool("stderr"));
    if !stdout && !stderr {
        return Err(ApiError::bad_parameter("Bad parameters: you must choose at least one stream"));
    }
    let mut spec = named(jobs::LOGS, Reply::Multiplexed(container_streams(Failure::Logs)), req)
        .env_bool("stdout", stdout)
        .env_bool("stderr", stderr)
        .env_bool("follow", req.query_bool("follow"))
        .env_bool("timestamps", req.query_bool("timestamps"))
        .env("tail", req.query_str("tail"))
        .env(env::API_VERSION, req.version.to_string());
    if let Some(since) = req.query_int("since")? {
        spec = spec.env("since", since.to_string());
    }
    Ok(spec)
}

/// `GET /containers/{name}/changes`.
pub fn changes(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(named(jobs::CHANGES, Reply::Json(StatusCode::OK), req))
}

/// `GET /containers/{name}/export`.
pub fn export(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(named(jobs::EXPORT, Reply::Raw("application/x-tar"), req))
}

/// `GET /containers/{name}/stats?stream=` (streams unless `stream=0`).
pub fn stats(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let stream = req.query("stream").filter(|v| !v.is_empty()).is_none_or(engine::parse_bool);
    Ok(named(jobs::STATS, Reply::JsonStream, req).env_bool("stream", stream))
}

/// `POST /containers/{name}/resize?h=&w=`.
pub fn resize(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let (h, w) = dimensions(req)?;
    Ok(named(jobs::RESIZE, Reply::Empty(StatusCode::OK), req).arg(h).arg(w))
}

/// The `h` and `w` query values, both required integers.
pub fn dimensions(req: &ApiRequest) -> Result<(String, String), ApiError> {
    let get = |key: &str| {
        req.query_int(key)?
            .filter(|v| *v >= 0)
            .map(|v| v.to_string())
            .ok_or_else(|| ApiError::bad_parameter(format!("{key} is required and must be a non-negative integer")))
    };
    Ok((get("h")?, get("w")?))
}

/// `POST /containers/{name}/start`, with an optional HostConfig body (old
/// clients; today's send it at create).
pub fn start(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let mut spec = named(jobs::START, Reply::Empty(StatusCode::NO_CONTENT), req);
    if let Some(body) = req.json_object()? {
        spec = spec.env(env::BODY, body.to_string());
    }
    Ok(spec)
}

fn with_timeout(spec: JobSpec, req: &ApiRequest) -> Result<JobSpec, ApiError> {
    // Docker 1.2 always set `t`, so a request without it stopped with 0 s
    // grace. Today's CLI sends no `t` for `docker stop`, and dockerd then
    // uses the default (10 s); so `t` is passed only when given.
    Ok(match req.query_int("t")? {
        Some(t) => spec.env("t", t.to_string()),
        None => spec,
    })
}

/// `POST /containers/{name}/stop?t=`.
pub fn stop(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    with_timeout(named(jobs::STOP, Reply::Empty(StatusCode::NO_CONTENT), req), req)
}

/// `POST /containers/{name}/restart?t=`.
pub fn restart(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    with_timeout(named(jobs::RESTART, Reply::Empty(StatusCode::NO_CONTENT), req), req)
}

/// `POST /containers/{name}/kill?signal=`.
pub fn kill(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let mut spec = named(jobs::KILL, Reply::Empty(StatusCode::NO_CONTENT), req);
    if let Some(signal) = req.query("signal").filter(|s| !s.is_empty()) {
        spec = spec.arg(signal);
    }
    Ok(spec)
}

/// `POST /containers/{name}/update` with resource limits as the body.
pub fn update(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let body = req.required_json_object()?;
    Ok(named(jobs::UPDATE, Reply::Json(StatusCode::OK), req).env(env::BODY, body.to_string()))
}

/// `POST /containers/{name}/rename?name=`.
pub fn rename(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let new_name = req.query_str("name");
    if new_name.is_empty() {
        return Err(ApiError::bad_parameter("the new name is required: use ?name=NEW_NAME"));
    }
    Ok(named(jobs::RENAME, Reply::Empty(StatusCode::NO_CONTENT), req).arg(new_name))
}

/// `POST /containers/{name}/pause`.
pub fn pause(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(named(jobs::PAUSE, Reply::Empty(StatusCode::NO_CONTENT), req))
}

/// `POST /containers/{name}/unpause`.
pub fn unpause(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(named(jobs::UNPAUSE, Reply::Empty(StatusCode::NO_CONTENT), req))
}

/// `POST /containers/{name}/attach?logs=&stream=&stdin=&stdout=&stderr=`.
pub fn attach(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let mut spec = named(jobs::ATTACH, Reply::Hijack(container_streams(Failure::Attach)), req);
    for key in ["logs", "stream", "stdin", "stdout", "stderr"] {
        spec = spec.env_bool(key, req.query_bool(key));
    }
    Ok(spec.env("detachKeys", req.query_str("detachKeys")).env(env::API_VERSION, req.version.to_string()))
}

/// `POST /containers/{name}/wait`.
pub fn wait(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(named(jobs::WAIT, Reply::Json(StatusCode::OK), req))
}

/// `DELETE /containers/{name}?v=&force=&link=`.
pub fn delete(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(named(jobs::DELETE, Reply::Empty(StatusCode::NO_CONTENT), req)
        .env_bool("removeVolume", req.query_bool("v"))
        .env_bool("forceRemove", req.query_bool("force"))
        .env_bool("removeLink", req.query_bool("link")))
}

/// `POST /containers/{name}/copy` with `{"Resource": PATH}` (the 1.2 copy).
pub fn copy(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let body = req.required_json_object()?;
    let resource = body.get("Resource").and_then(|r| r.as_str()).unwrap_or("");
    let resource = resource.trim_start_matches('/');
    if resource.is_empty() {
        return Err(ApiError::bad_parameter("Path cannot be empty"));
    }
    Ok(named(jobs::COPY, Reply::Raw("application/x-tar"), req).arg(resource))
}

fn archive_path(req: &ApiRequest) -> Result<&str, ApiError> {
    match req.query_str("path") {
        "" => Err(ApiError::bad_parameter("Bad parameter: path cannot be empty")),
        path => Ok(path),
    }
}

/// The header dockerd answers a path's stat in (lowercase: HTTP/1 header
/// names are case-insensitive and `http` wants them so).
const PATH_STAT_HEADER: &str = "x-docker-container-path-stat";

/// `HEAD /containers/{name}/archive?path=`: the stat in a header.
pub fn archive_stat(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(named(jobs::ARCHIVE_STAT, Reply::Header(PATH_STAT_HEADER), req).arg(archive_path(req)?))
}

/// `GET /containers/{name}/archive?path=`: the stat in a header (a missing
/// path is a 404 before any tar), then the tar.
pub fn archive_get(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let stat = Stat { job: jobs::ARCHIVE_STAT, header: PATH_STAT_HEADER };
    Ok(named(jobs::ARCHIVE_GET, Reply::RawWithStat(stat, "application/x-tar"), req).arg(archive_path(req)?))
}

/// `PUT /containers/{name}/archive?path=&noOverwriteDirNonDir=&copyUIDGID=` with a tar body.
pub fn archive_put(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(named(jobs::ARCHIVE_PUT, Reply::Empty(StatusCode::OK), req)
        .arg(archive_path(req)?)
        .env_bool("noOverwriteDirNonDir", req.query_bool("noOverwriteDirNonDir"))
        .env_bool("copyUIDGID", req.query_bool("copyUIDGID")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::API_VERSION;
    use bytes::Bytes;
    use http::Method;

    fn req(name: &str, query: &str) -> ApiRequest {
        ApiRequest::new(Method::POST, API_VERSION, name).with_query(query)
    }

    #[test]
    fn list_reads_flags_limit_and_filters() {
        let spec = list(&req("", r#"all=True&limit=-1&size=0&filters={"label":["a=b"]}"#)).unwrap();
        assert!(spec.env.get_bool("all"));
        assert!(!spec.env.get_bool("size"));
        assert_eq!(spec.env.get("limit"), "-1");
        assert_eq!(spec.env.get("filters"), r#"{"label":["a=b"]}"#);
        assert!(list(&req("", "limit=many")).is_err());
    }

    #[test]
    fn create_takes_name_and_body() {
        let mut r = req("", "name=web");
        assert!(create(&r).is_err(), "a body is required");
        r.body = Bytes::from_static(br#"{"Image":"busybox","HostConfig":{"NetworkMode":"none"}}"#);
        let spec = create(&r).unwrap();
        assert_eq!(spec.args, ["web"]);
        assert_eq!(spec.reply, Reply::Json(StatusCode::CREATED));
        let body: serde_json::Value = spec.env.get_json("body").unwrap().unwrap();
        assert_eq!(body["HostConfig"]["NetworkMode"], "none");
        r.body = Bytes::from_static(b"{\"Image\":");
        assert_eq!(create(&r).unwrap_err().kind, engine::ErrorKind::BadParameter);
    }

    #[test]
    fn stop_passes_t_only_when_given() {
        assert!(!stop(&req("web", "")).unwrap().env.exists("t"));
        assert_eq!(stop(&req("web", "t=3")).unwrap().env.get("t"), "3");
        assert_eq!(restart(&req("web", "t=0")).unwrap().env.get("t"), "0");
        assert!(stop(&req("web", "t=soon")).is_err());
    }

    #[test]
    fn kill_signal_is_optional() {
        assert_eq!(kill(&req("web", "")).unwrap().args, ["web"]);
        assert_eq!(kill(&req("web", "signal=HUP")).unwrap().args, ["web", "HUP"]);
    }

    #[test]
    fn logs_need_a_stream() {
        let err = logs(&req("web", "follow=1")).unwrap_err();
        assert_eq!(err.kind, engine::ErrorKind::BadParameter);
        let spec = logs(&req("web", "stdout=1&tail=all&since=5")).unwrap();
        assert_eq!(
            spec.reply,
            Reply::Multiplexed(Streams {
                probe: "container_inspect",
                tty: TtyFrom::Probe("/Config/Tty"),
                failure: Failure::Logs
            })
        );
        assert!(spec.env.get_bool("stdout"));
        assert_eq!(spec.env.get("tail"), "all");
        assert_eq!(spec.env.get("since"), "5");
    }

    #[test]
    fn attach_copies_the_stream_flags() {
        let spec = attach(&req("web", "stream=1&stdin=1&stdout=1&stderr=0")).unwrap();
        assert_eq!(spec.args, ["web"]);
        assert!(matches!(spec.reply, Reply::Hijack(Streams { failure: Failure::Attach, .. })));
        assert!(spec.env.get_bool("stream") && spec.env.get_bool("stdin") && spec.env.get_bool("stdout"));
        assert!(!spec.env.get_bool("stderr") && !spec.env.get_bool("logs"));
    }

    #[test]
    fn resize_needs_both_dimensions() {
        assert_eq!(resize(&req("web", "h=40&w=100")).unwrap().args, ["web", "40", "100"]);
        assert!(resize(&req("web", "h=40")).is_err());
        assert!(resize(&req("web", "h=x&w=1")).is_err());
    }

    #[test]
    fn delete_maps_query_names() {
        let spec = delete(&req("web", "v=False&link=False&force=True")).unwrap();
        assert!(!spec.env.get_bool("removeVolume"));
        assert!(spec.env.get_bool("forceRemove"));
    }

    #[test]
    fn copy_and_archive_need_a_path() {
        let mut r = req("web", "");
        r.body = Bytes::from_static(br#"{"Resource":"/etc/passwd"}"#);
        assert_eq!(copy(&r).unwrap().args, ["web", "etc/passwd"]);
        r.body = Bytes::from_static(br#"{"Resource":"/"}"#);
        assert_eq!(copy(&r).unwrap_err().message, "Path cannot be empty");
        assert!(archive_get(&req("web", "")).is_err());
        let get = archive_get(&req("web", "path=%2Fetc")).unwrap();
        assert_eq!(get.args, ["web", "/etc"]);
        assert_eq!(
            get.reply,
            Reply::RawWithStat(
                Stat { job: "container_archive_stat", header: "x-docker-container-path-stat" },
                "application/x-tar"
            )
        );
        assert_eq!(archive_stat(&req("web", "path=/etc")).unwrap().reply, Reply::Header(PATH_STAT_HEADER));
        assert!(
            archive_put(&req("web", "path=/tmp&noOverwriteDirNonDir=true"))
                .unwrap()
                .env
                .get_bool("noOverwriteDirNonDir")
        );
    }

    #[test]
    fn rename_needs_a_name() {
        assert!(rename(&req("a", "")).is_err());
        assert_eq!(rename(&req("a", "name=b")).unwrap().args, ["a", "b"]);
    }

    #[test]
    fn stats_stream_by_default() {
        assert!(stats(&req("web", "")).unwrap().env.get_bool("stream"));
        assert!(!stats(&req("web", "stream=0")).unwrap().env.get_bool("stream"));
    }
}
