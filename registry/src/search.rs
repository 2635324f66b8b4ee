//! `docker search`: the v1 search API (`GET /v1/search?q=&n=`), which Docker
//! Hub still serves at `index.docker.io`; a `host[:port]/term` searches that
//! registry's `/v1/search` instead. Registries without it fail the search.

use serde::{Deserialize, Serialize};

use crate::auth::AuthConfig;
use crate::client::Service;
use crate::error::RegistryError;

/// Where Docker Hub's search lives.
pub const INDEX_HOST: &str = "index.docker.io";
/// Results per search unless asked otherwise.
pub const DEFAULT_LIMIT: u32 = 25;

/// One search hit, in the shape today's clients read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResult {
    /// Repository description.
    #[serde(default)]
    pub description: String,
    /// Official image.
    #[serde(default)]
    pub is_official: bool,
    /// Automated build (v1 called it `is_trusted`).
    #[serde(default, alias = "is_trusted")]
    pub is_automated: bool,
    /// Repository name.
    #[serde(default)]
    pub name: String,
    /// Stars.
    #[serde(default)]
    pub star_count: u64,
}

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    results: Vec<SearchResult>,
}

/// Splits `host:port/term` into the index to ask and the term; anything
/// without a host prefix goes to Docker Hub.
pub fn split_index(term: &str) -> (&str, &str) {
    match term.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => match first {
            "docker.io" | "index.docker.io" | "registry-1.docker.io" => (INDEX_HOST, rest),
            _ => (first, rest),
        },
        _ => (INDEX_HOST, term),
    }
}

impl Service {
    /// Searches an index; results sorted by stars, most first (as 1.2 did).
    pub async fn search(
        &self,
        term: &str,
        limit: u32,
        auth: &AuthConfig,
        meta_headers: &[(String, String)],
    ) -> Result<Vec<SearchResult>, RegistryError> {
        let (host, query) = split_index(term);
        let mut last = None;
        for (http, base) in self.candidates(host).await? {
            let mut url = reqwest::Url::parse(&format!("{base}/v1/search"))
                .map_err(|e| RegistryError::Protocol(format!("bad search URL for {host}: {e}")))?;
            url.query_pairs_mut().append_pair("q", query).append_pair("n", &limit.to_string());
            let mut req = http.get(url.clone());
            for (k, v) in meta_headers {
                req = req.header(k.as_str(), v.as_str());
            }
            if let Some((user, password)) = auth.resolved().credentials() {
                req = req.basic_auth(user, Some(password));
            }
            let resp = match req.send().await {
                Ok(resp) => resp,
                Err(e) => {
                    last = Some(RegistryError::Transport { url: url.to_string(), message: e.to_string() });
                    continue;
                }
            };
            if !resp.status().is_success() {
                let status = resp.status().as_u16();
                let body = resp.text().await.unwrap_or_default();
                return Err(match status {
                    401 => RegistryError::Unauthorized(format!("unauthorized: {}", body.trim())),
                    _ => RegistryError::Status { status, url: url.to_string(), body: body.trim().to_string() },
                });
            }
            let body = resp
                .bytes()
                .await
                .map_err(|e| RegistryError::Transport { url: url.to_string(), message: e.to_string() })?;
            let parsed: Response = serde_json::from_slice(&body)
                .map_err(|e| RegistryError::Protocol(format!("search results from {url}: {e}")))?;
            let mut results = parsed.results;
            results.sort_by_key(|r| std::cmp::Reverse(r.star_count));
            return Ok(results);
        }
        Err(last.unwrap_or_else(|| RegistryError::Protocol(format!("no endpoint for {host}"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_split() {
        assert_eq!(split_index("busybox"), (INDEX_HOST, "busybox"));
        assert_eq!(split_index("user/app"), (INDEX_HOST, "user/app"));
        assert_eq!(split_index("127.0.0.1:5000/x"), ("127.0.0.1:5000", "x"));
        assert_eq!(split_index("localhost/x"), ("localhost", "x"));
        assert_eq!(split_index("docker.io/x"), (INDEX_HOST, "x"));
    }

    #[test]
    fn v1_result_shape() {
        let r: Response = serde_json::from_str(
            r#"{"num_results":1,"query":"x","results":[{"name":"a","description":"d","star_count":3,"is_official":true,"is_trusted":true}]}"#,
        )
        .unwrap();
        assert_eq!(
            r.results,
            vec![SearchResult {
                description: "d".into(),
                is_official: true,
                is_automated: true,
                name: "a".into(),
                star_count: 3
            }]
        );
        let out = serde_json::to_value(&r.results[0]).unwrap();
        let keys: Vec<&str> = out.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["description", "is_automated", "is_official", "name", "star_count"]);
    }
}
