//! Image deletion (`docker rmi`) with dockerd 1.12's rules, which today's
//! clients expect (Docker 1.2's `image_delete` differed in its messages and
//! in deleting by tag): untag a reference, delete the image with its last
//! reference, refuse while containers or child images need it, and prune
//! untagged parents. The daemon's `image_delete` job calls this with what it
//! knows of containers and logs the `untag`/`delete` events.

use runconfig::image::DeleteItem;

use super::util::{NamedRef, is_id_prefix, parse_ref, short_id};
use crate::Graph;
use crate::error::{GraphError, Result};

/// Options of an image deletion.
pub struct DeleteOptions<'a> {
    /// `force`: untag from several repositories, delete under stopped containers.
    pub force: bool,
    /// `noprune`: keep untagged parents.
    pub noprune: bool,
    /// For an image ID: `Some((container short id, running))` of a
    /// container using it.
    pub used_by: &'a dyn Fn(&str) -> Option<(String, bool)>,
}

/// Conflict kinds of dockerd's `checkImageDeleteConflict`.
const CHILD: u8 = 1;
const RUNNING: u8 = 2;
const REFERENCED: u8 = 4;
const STOPPED: u8 = 8;
const HARD: u8 = CHILD | RUNNING;
const SOFT: u8 = REFERENCED | STOPPED;

struct Conflict {
    used: bool,
    message: String,
}

/// Every reference of an image: `repo:tag` and `repo@digest`.
fn references(graph: &Graph, id: &str) -> Vec<String> {
    let mut refs = graph.tags().tags_of(id);
    refs.extend(graph.tags().digests_of(id));
    refs
}

/// Splits a stored reference (`repo:tag` or `repo@digest`).
fn split_stored(reference: &str) -> NamedRef {
    if let Some((repo, digest)) = reference.split_once('@') {
        return NamedRef { repo: repo.to_string(), tag: None, digest: Some(digest.to_string()) };
    }
    match reference.rfind(':') {
        Some(i) if !reference[i + 1..].contains('/') => {
            NamedRef { repo: reference[..i].to_string(), tag: Some(reference[i + 1..].to_string()), digest: None }
        }
        _ => NamedRef { repo: reference.to_string(), tag: None, digest: None },
    }
}

/// dockerd's `isSingleReference`: one tag, possibly with digests of the
/// same repository.
fn is_single_reference(refs: &[String]) -> bool {
    if refs.len() <= 1 {
        return refs.len() == 1;
    }
    let parsed: Vec<NamedRef> = refs.iter().map(|r| split_stored(r)).collect();
    let mut tagged = parsed.iter().filter(|r| r.digest.is_none());
    let single = match (tagged.next(), tagged.next()) {
        (_, Some(_)) => return false,
        (Some(one), None) => one,
        (None, None) => &parsed[0],
    };
    let digest_repos: std::collections::BTreeSet<&str> =
        parsed.iter().filter(|r| r.digest.is_some()).map(|r| r.repo.as_str()).collect();
    digest_repos.len() == 1 && digest_repos.contains(single.repo.as_str())
}

fn untag(graph: &Graph, reference: &str, records: &mut Vec<DeleteItem>) -> Result<()> {
    let r = split_stored(reference);
    graph.tags().delete(&r.repo, r.key())?;
    records.push(DeleteItem::Untagged(r.familiar()));
    Ok(())
}

/// Deletes `name` as `docker rmi` does; returns what was untagged and
/// deleted, in order. Untag/delete events are the caller's to log.
pub fn delete_image(graph: &Graph, name: &str, options: &DeleteOptions<'_>) -> Result<Vec<DeleteItem>> {
    let id = graph.lookup(name)?;
    let mut records = Vec::new();
    let mut refs = references(graph, &id);
    let mut removed_repository_ref = false;
    if !is_id_prefix(&id, name) {
        if !options.force
            && is_single_reference(&refs)
            && let Some((container, _)) = (options.used_by)(&id)
        {
            return Err(GraphError::Conflict(format!(
                "conflict: unable to remove repository reference \"{name}\" (must force) - container {} is using its referenced image {}",
                short_id(&container),
                short_id(&id)
            )));
        }
        let parsed = parse_ref(name).ok_or_else(|| GraphError::NoSuchImage(name.to_string()))?;
        if !graph.tags().delete(&parsed.repo, parsed.key())? {
            return Err(GraphError::NoSuchImage(name.to_string()));
        }
        records.push(DeleteItem::Untagged(parsed.familiar()));
        refs = references(graph, &id);
        if parsed.digest.is_none() {
            // The last tag of a repository takes that repository's digests
            // with it.
            let repo_still_tagged =
                refs.iter().map(|r| split_stored(r)).any(|r| r.digest.is_none() && r.repo == parsed.repo);
            if !repo_still_tagged {
                let mut remaining = Vec::new();
                for r in refs {
                    let s = split_stored(&r);
                    if s.digest.is_some() && s.repo == parsed.repo {
                        untag(graph, &r, &mut records)?;
                    } else {
                        remaining.push(r);
                    }
                }
                refs = remaining;
            }
        }
        if !refs.is_empty() {
            return Ok(records);
        }
        removed_repository_ref = true;
    } else if is_single_reference(&refs) {
        let mask = if options.force { HARD } else { HARD | (SOFT & !REFERENCED) };
        if let Some(conflict) = check_conflict(graph, &id, mask, options) {
            return Err(GraphError::Conflict(conflict.message));
        }
        for r in &refs {
            untag(graph, r, &mut records)?;
        }
    }
    delete_helper(graph, &id, &mut records, options.force, !options.noprune, removed_repository_ref, options)?;
    Ok(records)
}

fn delete_helper(
    graph: &Graph,
    id: &str,
    records: &mut Vec<DeleteItem>,
    force: bool,
    prune: bool,
    quiet: bool,
    options: &DeleteOptions<'_>,
) -> Result<()> {
    let mask = if force { HARD } else { HARD | SOFT };
    if let Some(conflict) = check_conflict(graph, id, mask, options) {
        let dangling = references(graph, id).is_empty() && graph.images().children(id).is_empty();
        if quiet && (!dangling || conflict.used) {
            return Ok(());
        }
        return Err(GraphError::Conflict(conflict.message));
    }
    let parent = graph.images().get(id).and_then(|i| i.parent);
    for r in references(graph, id) {
        untag(graph, &r, records)?;
    }
    let removed_layers = graph.images().delete(id)?;
    records.push(DeleteItem::Deleted(id.to_string()));
    records.extend(removed_layers.into_iter().map(DeleteItem::Deleted));
    match parent {
        Some(parent) if prune => delete_helper(graph, &parent, records, false, true, true, options),
        _ => Ok(()),
    }
}

fn check_conflict(graph: &Graph, id: &str, mask: u8, options: &DeleteOptions<'_>) -> Option<Conflict> {
    let conflict = |hard: bool, used: bool, what: String| {
        let force = if hard { "cannot be forced" } else { "must be forced" };
        Some(Conflict { used, message: format!("conflict: unable to delete {} ({force}) - {what}", short_id(id)) })
    };
    if mask & CHILD != 0 && !graph.images().children(id).is_empty() {
        return conflict(true, false, "image has dependent child images".to_string());
    }
    let user = (options.used_by)(id);
    if mask & RUNNING != 0
        && let Some((c, true)) = &user
    {
        return conflict(true, true, format!("image is being used by running container {}", short_id(c)));
    }
    if mask & REFERENCED != 0 && !references(graph, id).is_empty() {
        // dockerd 1.12 said "one or more"; later versions say "multiple".
        return conflict(false, false, "image is referenced in multiple repositories".to_string());
    }
    if mask & STOPPED != 0
        && let Some((c, false)) = &user
    {
        return conflict(false, true, format!("image is being used by stopped container {}", short_id(c)));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::testutil::TestGraph;

    fn none(_: &str) -> Option<(String, bool)> {
        None
    }

    fn opts(force: bool, used_by: &dyn Fn(&str) -> Option<(String, bool)>) -> DeleteOptions<'_> {
        DeleteOptions { force, noprune: false, used_by }
    }

    #[test]
    fn single_reference_rules() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(is_single_reference(&s(&["a:1"])));
        assert!(!is_single_reference(&s(&["a:1", "b:1"])));
        assert!(is_single_reference(&s(&["a:1", "a@sha256:x"])));
        assert!(!is_single_reference(&s(&["a:1", "b@sha256:x"])));
        assert!(!is_single_reference(&s(&[])));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn rmi_untags_then_deletes_and_prunes() {
        let t = TestGraph::new();
        let g = &t.graph;
        let base = t.image(&[b"base"], None, "2020-01-01T00:00:00Z", "{}");
        let child = t.image(&[b"base", b"child"], Some(&base), "2021-01-01T00:00:00Z", "{}");
        t.tag("busybox", "latest", &child);
        t.tag("busybox", "other", &child);

        // Another reference remains: untag only.
        let out = delete_image(g, "busybox:other", &opts(false, &none)).unwrap();
        assert_eq!(out, [DeleteItem::Untagged("busybox:other".into())]);

        // The parent has a child: a hard conflict even with force.
        let err = delete_image(g, &base, &opts(true, &none)).err().unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "conflict: unable to delete {} (cannot be forced) - image has dependent child images",
                short_id(&base)
            )
        );

        // A stopped container: refused without force.
        let stopped = |_: &str| Some(("0123456789abcdef".to_string(), false));
        let err = delete_image(g, "busybox", &opts(false, &stopped)).err().unwrap();
        assert!(err.to_string().starts_with("conflict: unable to remove repository reference \"busybox\" (must force) - container 0123456789ab is using its referenced image"), "{err}");
        // A running one: refused even with force (by ID).
        let running = |_: &str| Some(("0123456789abcdef".to_string(), true));
        let err = delete_image(g, &child, &opts(true, &running)).err().unwrap();
        assert!(err.to_string().contains("(cannot be forced) - image is being used by running container 0123456789ab"));
        assert!(matches!(err, GraphError::Conflict(_)));

        // The last reference: untag, delete, prune the untagged parent.
        let out = delete_image(g, "busybox", &opts(false, &none)).unwrap();
        assert_eq!(out[0], DeleteItem::Untagged("busybox:latest".into()));
        assert_eq!(out[1], DeleteItem::Deleted(child.clone()));
        assert!(out.contains(&DeleteItem::Deleted(base.clone())));
        assert!(g.images().get(&base).is_none());

        let err = delete_image(g, "busybox", &opts(false, &none)).err().unwrap();
        assert!(matches!(err, GraphError::NoSuchImage(_)));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn an_id_in_several_repositories_needs_force() {
        let t = TestGraph::new();
        let g = &t.graph;
        let id = t.image(&[b"x"], None, "2020-01-01T00:00:00Z", "{}");
        t.tag("a", "latest", &id);
        t.tag("b", "latest", &id);
        let err = delete_image(g, &id[7..19], &opts(false, &none)).err().unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                short_id(&id)
            )
        );
        let out = delete_image(g, &id, &opts(true, &none)).unwrap();
        assert_eq!(out[..2], [DeleteItem::Untagged("a:latest".into()), DeleteItem::Untagged("b:latest".into())]);
        assert_eq!(out[2], DeleteItem::Deleted(id.clone()));
        assert!(g.tags().all().is_empty() || g.tags().tags_of(&id).is_empty());
    }
}
