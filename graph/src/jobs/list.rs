//! The `images` job (`graph/list.go` of Docker 1.2): every image, newest
//! first, in API v1.24's shape and with the filters of today's dockerd
//! (`dangling`, `label`, `before`, `since`, `reference`) besides 1.2's
//! `filter` glob.

use std::collections::{BTreeMap, HashSet};

use engine::names::env;
use engine::{ErrorKind, Job, Status};
use runconfig::image::ImageSummary;

use super::ImageService;
use super::util::{blocking, glob_match};
use crate::Graph;
use crate::error::{GraphError, Result};
use crate::images::Image;

/// What the job's env asks for.
#[derive(Debug, Default)]
struct Filters {
    all: bool,
    /// Globs on the reference; set by 1.2's `filter` or `reference`.
    references: Vec<String>,
    dangling: Option<bool>,
    labels: Vec<String>,
    before: Vec<String>,
    since: Vec<String>,
}

/// Runs `images`.
pub async fn images(service: ImageService, job: Job) -> Status {
    let mut filters = Filters { all: job.getenv_bool("all"), ..Filters::default() };
    let legacy = job.getenv("filter");
    if !legacy.is_empty() {
        filters.references.push(legacy);
    }
    let parsed: BTreeMap<String, Vec<String>> = match job.getenv_json(env::FILTERS) {
        Ok(v) => v.unwrap_or_default(),
        Err(e) => return job.fail(ErrorKind::BadParameter, format!("invalid filters: {e}")).await,
    };
    for (key, values) in parsed {
        match key.as_str() {
            "dangling" => match values.iter().map(|v| v.to_ascii_lowercase()).next().as_deref() {
                Some("true" | "1") => filters.dangling = Some(true),
                Some("false" | "0") => filters.dangling = Some(false),
                Some(other) => {
                    let msg = format!("Invalid filter 'dangling={other}'");
                    return job.fail(ErrorKind::BadParameter, msg).await;
                }
                None => {}
            },
            "label" => filters.labels = values,
            "before" => filters.before = values,
            "since" => filters.since = values,
            "reference" => filters.references.extend(values),
            other => return job.fail(ErrorKind::BadParameter, format!("Invalid filter '{other}'")).await,
        }
    }
    let graph = service.graph.clone();
    match blocking(move || list(&graph, &filters)).await {
        Ok(list) => match serde_json::to_vec(&list) {
            Ok(body) => {
                let _ = job.print(body).await;
                Status::OK
            }
            Err(e) => job.fail(ErrorKind::Internal, e).await,
        },
        Err(e) => job.fail(e.kind(), e).await,
    }
}

fn created_of(graph: &Graph, name: &str) -> Result<i64> {
    let id = graph.lookup(name)?;
    graph.images().get(&id).map(|i| i.created_unix).ok_or(GraphError::NoSuchImage(name.to_string()))
}

fn labels_of(image: &Image) -> BTreeMap<String, String> {
    image
        .config
        .config
        .get("Labels")
        .and_then(|l| l.as_object())
        .map(|l| l.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect())
        .unwrap_or_default()
}

fn reference_matches(pattern: &str, reference: &str) -> bool {
    // As `reference.FamiliarMatch`: the whole `repo:tag` or the repository.
    let repo = reference.split_once('@').map(|(r, _)| r).unwrap_or_else(|| match reference.rfind(':') {
        Some(i) if !reference[i + 1..].contains('/') => &reference[..i],
        _ => reference,
    });
    glob_match(pattern, reference) || glob_match(pattern, repo)
}

fn list(graph: &Graph, f: &Filters) -> Result<Vec<ImageSummary>> {
    let mut before = None;
    for name in &f.before {
        before = Some(created_of(graph, name)?);
    }
    let mut since = None;
    for name in &f.since {
        since = Some(created_of(graph, name)?);
    }
    let all_images = graph.images().list();
    let parents: HashSet<String> = all_images.iter().filter_map(|i| i.parent.clone()).collect();
    let mut out = Vec::new();
    for image in all_images {
        if before.is_some_and(|t| image.created_unix >= t) || since.is_some_and(|t| image.created_unix <= t) {
            continue;
        }
        let labels = labels_of(&image);
        let label_ok = f.labels.iter().all(|want| match want.split_once('=') {
            Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
            None => labels.contains_key(want),
        });
        if !label_ok {
            continue;
        }
        let keep = |r: &String| f.references.is_empty() || f.references.iter().any(|p| reference_matches(p, r));
        let mut repo_tags: Vec<String> = graph.tags().tags_of(&image.id).into_iter().filter(keep).collect();
        let mut repo_digests: Vec<String> = graph.tags().digests_of(&image.id).into_iter().filter(keep).collect();
        if repo_tags.is_empty() && repo_digests.is_empty() {
            // Intermediate images (untagged parents) show only with `all`.
            if !f.all && parents.contains(&image.id) {
                continue;
            }
            if f.dangling == Some(false) || !f.references.is_empty() {
                continue;
            }
            repo_tags = vec!["<none>:<none>".to_string()];
            repo_digests = vec!["<none>@<none>".to_string()];
        } else if f.dangling == Some(true) && !repo_tags.is_empty() {
            continue;
        }
        out.push(ImageSummary {
            id: image.id.clone(),
            parent_id: image.parent.clone().unwrap_or_default(),
            repo_tags,
            repo_digests,
            created: image.created_unix,
            size: image.size,
            virtual_size: image.size,
            shared_size: -1,
            labels,
            containers: -1,
        });
    }
    out.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;

    #[test]
    fn references_match_whole_or_repository() {
        assert!(super::reference_matches("busy*", "busybox:latest"));
        assert!(super::reference_matches("busybox:1*", "busybox:1.36"));
        assert!(!super::reference_matches("busybox:2*", "busybox:1.36"));
        assert!(super::reference_matches("localhost:5000/*", "localhost:5000/app:a"));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn filters_pick_images() {
        let t = TestGraph::new();
        let base = t.image(&[b"base"], None, "2020-01-01T00:00:00Z", r#"{"Labels":{"tier":"db"}}"#);
        let child = t.image(&[b"base", b"child"], Some(&base), "2021-01-01T00:00:00Z", "{}");
        let other = t.image(&[b"other"], None, "2022-01-01T00:00:00Z", "{}");
        t.tag("busybox", "latest", &child);
        t.tag("app/web", "1", &other);

        let ids = |v: serde_json::Value| -> Vec<String> {
            v.as_array().unwrap().iter().map(|i| i["Id"].as_str().unwrap().to_string()).collect()
        };
        let v = t.run_json("images", &[], &[]).await;
        // `base` is an untagged parent: hidden without `all`.
        assert_eq!(ids(v.clone()), [other.clone(), child.clone()]);
        assert_eq!(v[0]["RepoTags"], serde_json::json!(["app/web:1"]));
        assert_eq!(v[0]["SharedSize"], -1);
        assert_eq!(v[0]["Labels"], serde_json::json!({}));
        assert!(v[1]["Size"].as_i64().unwrap() > v[0]["Size"].as_i64().unwrap() - 100);

        let v = t.run_json("images", &[], &[("all", "1")]).await;
        assert_eq!(ids(v.clone()), [other.clone(), child.clone(), base.clone()]);
        assert_eq!(v[2]["RepoTags"], serde_json::json!(["<none>:<none>"]));

        let v = t.run_json("images", &[], &[("all", "1"), ("filters", r#"{"dangling":["true"]}"#)]).await;
        assert_eq!(ids(v), std::slice::from_ref(&base));
        let v = t.run_json("images", &[], &[("all", "1"), ("filters", r#"{"label":["tier=db"]}"#)]).await;
        assert_eq!(ids(v), std::slice::from_ref(&base));
        let v = t.run_json("images", &[], &[("filters", r#"{"reference":["app/*"]}"#)]).await;
        assert_eq!(ids(v), std::slice::from_ref(&other));
        let v = t.run_json("images", &[], &[("filter", "busy*")]).await;
        assert_eq!(ids(v), std::slice::from_ref(&child));
        let v = t.run_json("images", &[], &[("filters", r#"{"before":["app/web:1"]}"#)]).await;
        assert_eq!(ids(v), std::slice::from_ref(&child));
        let v = t.run_json("images", &[], &[("all", "1"), ("filters", r#"{"since":["busybox"]}"#)]).await;
        assert_eq!(ids(v), std::slice::from_ref(&other));
        let (code, err) = t.run_err("images", &[], &[("filters", r#"{"nope":["x"]}"#)]).await;
        assert_eq!(code, engine::ErrorKind::BadParameter);
        assert!(err.contains("nope"));
    }
}
