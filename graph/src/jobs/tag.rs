//! The `tag` job (`CmdTagLegacy` of Docker 1.2's `graph/tag.go`):
//! `tag IMAGE REPOSITORY [TAG]`. Tagging always overwrites: 1.2's conflict
//! check could never fire and today's dockerd has no `force`.

use engine::{ErrorKind, Job, Status};

use super::ImageService;
use super::events::log_image_event;
use super::util::{blocking, parse_ref};
use crate::error::GraphError;

/// Runs `tag`.
pub async fn tag(service: ImageService, job: Job) -> Status {
    let args = job.args();
    if !(2..=3).contains(&args.len()) {
        return job.fail(ErrorKind::BadParameter, "Usage: tag IMAGE REPOSITORY [TAG]").await;
    }
    let (image, repo) = (args[0].clone(), args[1].clone());
    let tag = args.get(2).cloned().unwrap_or_default();
    let graph = service.graph.clone();
    let result = blocking(move || {
        if repo.is_empty() {
            return Err(GraphError::InvalidReference("Repository name can't be empty".to_string()));
        }
        // Today's CLI may send `docker.io/user/app`; the TagStore keys the
        // short local name.
        let parsed = parse_ref(&repo).ok_or_else(|| match registry::Reference::parse(&repo) {
            Err(e) => GraphError::InvalidReference(e.to_string()),
            Ok(_) => GraphError::InvalidReference(format!("invalid reference format: {repo}")),
        })?;
        if parsed.digest.is_some() {
            return Err(GraphError::InvalidReference("refusing to create a tag with a digest reference".to_string()));
        }
        // As dockerd: an explicit TAG wins over one inside REPOSITORY.
        let tag = if tag.is_empty() { parsed.tag.clone().unwrap_or_else(|| "latest".to_string()) } else { tag };
        registry::reference::validate_tag(&tag).map_err(|e| GraphError::InvalidReference(e.to_string()))?;
        let id = graph.lookup(&image)?;
        graph.tags().set(&parsed.repo, &tag, &id, true)?;
        Ok((id, format!("{}:{tag}", parsed.repo)))
    })
    .await;
    match result {
        Ok((id, name)) => {
            // Docker 1.2 logged no event for a tag; today's dockerd does.
            log_image_event(&job, "tag", &id, &name).await;
            Status::OK
        }
        Err(e) => job.fail(e.kind(), e).await,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use engine::ErrorKind;

    #[tokio::test(flavor = "multi_thread")]
    async fn tags_overwrite_and_normalise() {
        let t = TestGraph::new();
        let a = t.image(&[b"a"], None, "2020-01-01T00:00:00Z", "{}");
        let b = t.image(&[b"b"], None, "2020-01-01T00:00:00Z", "{}");
        t.run_ok("tag", &[&a, "docker.io/library/busybox", ""], &[]).await;
        assert_eq!(t.graph.tags().get("busybox", "latest").as_deref(), Some(a.as_str()));
        t.run_ok("tag", &[&b, "busybox", "latest"], &[]).await;
        assert_eq!(t.graph.tags().get("busybox", "latest").as_deref(), Some(b.as_str()));
        t.run_ok("tag", &[&b, "127.0.0.1:5000/x/y:v1"], &[]).await;
        assert_eq!(t.graph.tags().get("127.0.0.1:5000/x/y", "v1").as_deref(), Some(b.as_str()));

        let (kind, _) = t.run_err("tag", &[&a, "Bad Name", "x"], &[]).await;
        assert_eq!(kind, ErrorKind::BadParameter);
        let (kind, _) = t.run_err("tag", &[&a, "busybox", "bad:tag"], &[]).await;
        assert_eq!(kind, ErrorKind::BadParameter);
        let (kind, text) = t.run_err("tag", &["nope", "busybox", "x"], &[]).await;
        assert_eq!((kind, text.as_str()), (ErrorKind::NotFound, "No such image: nope"));
    }
}
