//! Builders of the image routes (`/images/...`). Image names in paths may
//! hold `/` and `:` (`/images/127.0.0.1:5000/busybox:latest/json`).

use engine::names::{env, image as jobs};
use http::StatusCode;

use crate::errors::ApiError;
use crate::request::ApiRequest;
use crate::route::{JobSpec, Reply};

/// `GET /images/json?all=&filters=&filter=`.
pub fn list(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    JobSpec::new(jobs::LIST, Reply::Json(StatusCode::OK))
        .env_bool("all", req.query_bool("all"))
        .env("filter", req.query_str("filter"))
        .filters_from(req)
}

/// Splits `name[:tag]` at the last `:` that is not part of a registry host
/// (`localhost:5000/busybox` has no tag), and drops a `@digest`'s tag split.
pub fn split_repository_tag(name: &str) -> (&str, &str) {
    if name.contains('@') {
        return (name, "");
    }
    match name.rfind(':') {
        Some(i) if !name[i + 1..].contains('/') => (&name[..i], &name[i + 1..]),
        _ => (name, ""),
    }
}

/// `POST /images/create`: a pull with `fromImage`, an import with `fromSrc`
/// (the body is the tarball for `fromSrc=-`).
pub fn create(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let from_image = req.query_str("fromImage");
    let tag = req.query_str("tag");
    if !from_image.is_empty() {
        let (image, tag) = if tag.is_empty() { split_repository_tag(from_image) } else { (from_image, tag) };
        return Ok(JobSpec::new(jobs::PULL, Reply::JsonStream)
            .arg(image)
            .arg(tag)
            .env(env::AUTH_CONFIG, req.registry_auth())
            .env(env::META_HEADERS, req.meta_headers())
            .env_bool("json", true));
    }
    let from_src = req.query_str("fromSrc");
    if from_src.is_empty() {
        return Err(ApiError::bad_parameter("fromImage or fromSrc is required"));
    }
    // Today's CLI puts the tag inside `repo` (`repo=name:tag`) and sends none.
    let repo = req.query_str("repo");
    let (repo, tag) = if tag.is_empty() { split_repository_tag(repo) } else { (repo, tag) };
    let mut spec =
        JobSpec::new(jobs::IMPORT, Reply::JsonStream).arg(from_src).arg(repo).arg(tag).env_bool("json", true);
    spec.env.set_list("changes", &req.query_all("changes"));
    spec = spec.env("message", req.query_str("message"));
    Ok(spec)
}

/// `GET /images/{name}/json`.
pub fn inspect(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(JobSpec::new(jobs::INSPECT, Reply::Json(StatusCode::OK)).arg(&req.name))
}

/// `GET /images/{name}/history`.
pub fn history(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(JobSpec::new(jobs::HISTORY, Reply::Json(StatusCode::OK)).arg(&req.name))
}

/// `POST /images/{name}/push?tag=`.
pub fn push(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(JobSpec::new(jobs::PUSH, Reply::JsonStream)
        .arg(&req.name)
        .env("tag", req.query_str("tag"))
        .env(env::AUTH_CONFIG, req.registry_auth())
        .env(env::META_HEADERS, req.meta_headers())
        .env_bool("json", true))
}

/// `POST /images/{name}/tag?repo=&tag=&force=`.
pub fn tag(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let repo = req.query_str("repo");
    if repo.is_empty() {
        return Err(ApiError::bad_parameter("repo is required: use ?repo=NAME&tag=TAG"));
    }
    Ok(JobSpec::new(jobs::TAG, Reply::Empty(StatusCode::CREATED))
        .arg(&req.name)
        .arg(repo)
        .arg(req.query_str("tag"))
        .env_bool("force", req.query_bool("force")))
}

/// `DELETE /images/{name}?force=&noprune=`.
pub fn delete(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(JobSpec::new(jobs::DELETE, Reply::Json(StatusCode::OK))
        .arg(&req.name)
        .env_bool("force", req.query_bool("force"))
        .env_bool("noprune", req.query_bool("noprune")))
}

/// `GET /images/{name}/get`: `docker save` of one image.
pub fn export_one(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(JobSpec::new(jobs::EXPORT, Reply::Raw("application/x-tar")).arg(&req.name))
}

/// `GET /images/get?names=a&names=b`: `docker save` of several.
pub fn export_many(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    let names = req.query_all("names");
    if names.is_empty() {
        return Err(ApiError::bad_parameter("names is required: use ?names=IMAGE"));
    }
    let mut spec = JobSpec::new(jobs::EXPORT, Reply::Raw("application/x-tar"));
    spec.args = names;
    Ok(spec)
}

/// `POST /images/load?quiet=` with a `docker save` tar as the body.
pub fn load(req: &ApiRequest) -> Result<JobSpec, ApiError> {
    Ok(JobSpec::new(jobs::LOAD, Reply::JsonStream).env_bool("quiet", req.query_bool("quiet")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::API_VERSION;
    use http::Method;

    fn req(name: &str, query: &str) -> ApiRequest {
        ApiRequest::new(Method::POST, API_VERSION, name).with_query(query)
    }

    #[test]
    fn repository_tags_split_after_the_registry_port() {
        assert_eq!(split_repository_tag("busybox"), ("busybox", ""));
        assert_eq!(split_repository_tag("busybox:1.36"), ("busybox", "1.36"));
        assert_eq!(split_repository_tag("localhost:5000/busybox"), ("localhost:5000/busybox", ""));
        assert_eq!(split_repository_tag("localhost:5000/busybox:a"), ("localhost:5000/busybox", "a"));
        assert_eq!(split_repository_tag("busybox@sha256:abc"), ("busybox@sha256:abc", ""));
    }

    #[test]
    fn create_pulls_or_imports() {
        let pull = create(&req("", "fromImage=127.0.0.1%3A5000%2Fbusybox&tag=latest")).unwrap();
        assert_eq!(pull.name, "pull");
        assert_eq!(pull.args, ["127.0.0.1:5000/busybox", "latest"]);
        assert_eq!(pull.env.get("authConfig"), "{}");
        let pull = create(&req("", "fromImage=ubuntu%3A14.04")).unwrap();
        assert_eq!(pull.args, ["ubuntu", "14.04"]);
        let import = create(&req("", "fromSrc=-&repo=captest%2Fimported%3Aa")).unwrap();
        assert_eq!(import.name, "import");
        assert_eq!(import.args, ["-", "captest/imported", "a"]);
        assert!(create(&req("", "")).is_err());
    }

    #[test]
    fn tag_and_delete() {
        let spec = tag(&req("busybox", "repo=127.0.0.1%3A5000%2Fcaptest&tag=a")).unwrap();
        assert_eq!(spec.args, ["busybox", "127.0.0.1:5000/captest", "a"]);
        assert_eq!(spec.reply, Reply::Empty(StatusCode::CREATED));
        assert!(tag(&req("busybox", "")).is_err());
        let spec = delete(&req("busybox", "force=1")).unwrap();
        assert!(spec.env.get_bool("force"));
        assert!(!spec.env.get_bool("noprune"));
    }

    #[test]
    fn save_of_several_images() {
        assert_eq!(export_many(&req("", "names=a&names=b")).unwrap().args, ["a", "b"]);
        assert!(export_many(&req("", "")).is_err());
    }

    #[test]
    fn list_takes_filters() {
        let spec = list(&req("", r#"all=1&filters={"dangling":{"true":true}}"#)).unwrap();
        assert_eq!(spec.env.get("filters"), r#"{"dangling":["true"]}"#);
    }
}
