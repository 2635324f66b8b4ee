//! The registry's jobs (`registry/service.go` `Install` in Docker 1.2):
//! `auth` checks credentials against a registry, `search` queries an index.

use std::collections::BTreeMap;

use engine::names::{self, env};
use engine::{Engine, EngineError, ErrorKind, Job, Status};

use crate::auth::AuthConfig;
use crate::client::Service;
use crate::search::DEFAULT_LIMIT;

/// The job env key with the number of search results wanted.
pub const ENV_LIMIT: &str = "limit";

/// What `auth` prints on success: the v1.24 `POST /auth` body.
pub const LOGIN_SUCCEEDED: &str = r#"{"Status":"Login Succeeded","IdentityToken":""}"#;

/// Registers `auth` and `search` on `eng`, speaking through `service`.
pub fn install(eng: &Engine, service: Service) -> Result<(), EngineError> {
    let s = service.clone();
    eng.register(names::registry::AUTH, move |job| auth(job, s.clone()))?;
    eng.register(names::registry::SEARCH, move |job| search(job, service.clone()))?;
    Ok(())
}

/// `metaHeaders` as header pairs; unreadable means none.
pub fn meta_headers(job: &Job) -> Vec<(String, String)> {
    let map: BTreeMap<String, Vec<String>> = job.getenv_json(env::META_HEADERS).ok().flatten().unwrap_or_default();
    map.into_iter().flat_map(|(k, vs)| vs.into_iter().map(move |v| (k.clone(), v))).collect()
}

async fn auth(job: Job, service: Service) -> Status {
    let config = AuthConfig::from_json_lenient(&job.getenv(env::AUTH_CONFIG));
    match service.login(&config).await {
        Ok(()) => match job.print(LOGIN_SUCCEEDED).await {
            Ok(()) => Status::OK,
            Err(e) => job.fail(ErrorKind::Internal, format!("auth: writing the reply: {e}")).await,
        },
        Err(e) => job.fail(e.kind(), e).await,
    }
}

async fn search(job: Job, service: Service) -> Status {
    let args = job.args();
    let [term] = args.as_slice() else {
        return job.fail(ErrorKind::BadParameter, format!("Usage: {} TERM", job.name())).await;
    };
    let limit = if job.env_exists(ENV_LIMIT) && !job.getenv(ENV_LIMIT).is_empty() {
        job.getenv_int(ENV_LIMIT)
    } else {
        i64::from(DEFAULT_LIMIT)
    };
    let limit = match u32::try_from(limit) {
        Ok(n @ 1..=100) => n,
        _ => return job.fail(ErrorKind::BadParameter, format!("Limit {limit} is outside the range of [1, 100]")).await,
    };
    let config = AuthConfig::from_json_lenient(&job.getenv(env::AUTH_CONFIG));
    let results = match service.search(term, limit, &config, &meta_headers(&job)).await {
        Ok(results) => results,
        Err(e) => return job.fail(e.kind(), e).await,
    };
    let text = match serde_json::to_string(&results) {
        Ok(text) => text,
        Err(e) => return job.fail(ErrorKind::Internal, format!("search: encoding results: {e}")).await,
    };
    match job.print(text).await {
        Ok(()) => Status::OK,
        Err(e) => job.fail(ErrorKind::Internal, format!("search: writing results: {e}")).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ServiceOptions;

    #[tokio::test]
    async fn install_registers_both_jobs_once() {
        let eng = Engine::new();
        install(&eng, Service::new(ServiceOptions::default())).unwrap();
        assert!(eng.has_handler(names::registry::AUTH) && eng.has_handler(names::registry::SEARCH));
        assert!(install(&eng, Service::new(ServiceOptions::default())).is_err());
    }

    #[tokio::test]
    async fn meta_headers_from_env() {
        let eng = Engine::new();
        let job = eng.job("x", Vec::<String>::new());
        job.setenv(env::META_HEADERS, r#"{"X-Meta-A":["1","2"],"X-Meta-B":["3"]}"#);
        assert_eq!(
            meta_headers(&job),
            [
                ("X-Meta-A".to_string(), "1".to_string()),
                ("X-Meta-A".into(), "2".into()),
                ("X-Meta-B".into(), "3".into())
            ]
        );
        job.setenv(env::META_HEADERS, "not json");
        assert!(meta_headers(&job).is_empty());
    }
}
