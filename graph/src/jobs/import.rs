//! The `import` job (`graph/import.go` of Docker 1.2): `import SRC REPO
//! [TAG]` makes a one-layer image from a tarball on stdin (`SRC` = `-`) or
//! at a URL (a SRC without a scheme is `http://SRC`), plain or gzip'd. The
//! config is today's dockerd's (rootfs, history, `--change`, `message`).

use engine::{ErrorKind, Job, Status};
use runconfig::StreamFormatter;
use serde_json::{Map, Value};

use super::ImageService;
use super::bridge::{ChannelReader, reader_from_stdin, reader_from_stream};
use super::events::log_image_event;
use super::progress::{self, ByteCounter};
use super::util::{NamedRef, Timestamp, blocking, maybe_gunzip, parse_ref, short_id};
use super::{changes, v1};
use crate::Graph;
use crate::error::{GraphError, Result};

/// The host architecture as Go names it.
pub(super) fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// Runs `import`.
pub async fn import(service: ImageService, job: Job) -> Status {
    let args = job.args();
    if !(2..=3).contains(&args.len()) {
        return job.fail(ErrorKind::BadParameter, "Usage: import SRC REPO [TAG]").await;
    }
    let src = args[0].clone();
    let target = match target(&args[1], args.get(2).map_or("", String::as_str), "import") {
        Ok(t) => t,
        Err(e) => return job.fail(e.kind(), e).await,
    };
    let mut runtime = Map::new();
    if let Err(e) = changes::apply(&mut runtime, &job.getenv_list("changes").unwrap_or_default()) {
        return job.fail(ErrorKind::BadParameter, e).await;
    }
    let message = job.getenv("message");
    let formatter = StreamFormatter::new(job.getenv_bool("json"));
    let (progress, writer) = progress::start(&job);

    let reader: ChannelReader = if src == "-" {
        reader_from_stdin(&job)
    } else {
        let url = if src.contains("://") { src.clone() } else { format!("http://{src}") };
        let (length, body) = match service.registry.fetch_url(&url).await {
            Ok(r) => r,
            Err(e) => {
                drop(progress);
                writer.finish().await;
                return job.fail(ErrorKind::Internal, format!("Get {url}: {e}")).await;
            }
        };
        progress.status("", &format!("Downloading from {url}")).await;
        let total = length.unwrap_or(0) as i64;
        let mut counter = ByteCounter::new(progress.clone(), "", "Importing", total);
        reader_from_stream(body, move |n| counter.add(n))
    };
    drop(progress);
    let comment = if message.is_empty() { format!("Imported from {src}") } else { message };
    let graph = service.graph.clone();
    let result = blocking(move || create(&graph, reader, &runtime, &comment, target.as_ref())).await;
    writer.finish().await;
    match result {
        Ok(id) => {
            if formatter.is_json() {
                let _ = job.print(formatter.status("", &id)).await;
            } else {
                let _ = job.print(format!("{id}\n")).await;
            }
            log_image_event(&job, "import", &id, &id).await;
            Status::OK
        }
        Err(e) => job.fail(e.kind(), e).await,
    }
}

/// The `repo:tag` to tag, checked before anything is read (`verb` names
/// the job in the refusal of a digest).
pub(super) fn target(repo: &str, tag: &str, verb: &str) -> Result<Option<NamedRef>> {
    if repo.is_empty() {
        return Ok(None);
    }
    let mut r = parse_ref(repo).ok_or_else(|| match registry::Reference::parse(repo) {
        Err(e) => GraphError::InvalidReference(e.to_string()),
        Ok(_) => GraphError::InvalidReference(format!("invalid reference format: {repo}")),
    })?;
    if r.digest.is_some() {
        return Err(GraphError::InvalidReference(format!("cannot {verb} digest reference")));
    }
    if !tag.is_empty() {
        r.tag = Some(tag.to_string());
    }
    let tag = r.key().to_string();
    registry::reference::validate_tag(&tag).map_err(|e| GraphError::InvalidReference(e.to_string()))?;
    r.tag = Some(tag);
    Ok(Some(r))
}

/// Registers the layer and stores its image (blocking); the image ID.
fn create(
    graph: &Graph,
    reader: ChannelReader,
    runtime: &Map<String, Value>,
    comment: &str,
    target: Option<&NamedRef>,
) -> Result<String> {
    let mut tar = maybe_gunzip(reader).map_err(|e| GraphError::BadLayer(format!("reading the tarball: {e}")))?;
    let layer = graph.layers().register(None, &mut tar, None)?;
    let created = Timestamp::now().to_go_string();
    let string = |s: &str| engine::gojson::to_string(&Value::String(s.to_string()));
    // Keys sorted and Go-encoded, as dockerd's `image.Image` marshals.
    let config = format!(
        "{{\"architecture\":{},\"comment\":{},\"config\":{},\"container_config\":{},\"created\":{},\"history\":[{}],\"os\":\"linux\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[{}]}}}}",
        string(go_arch()),
        string(comment),
        v1::container_config_json(Some(&Value::Object(runtime.clone()))),
        v1::container_config_json(None),
        string(&created),
        v1::history_json(&created, "", "", comment, false),
        string(&layer.diff_id),
    );
    let image = graph.images().create(config.as_bytes())?;
    if let Some(r) = target {
        graph.tags().set(&r.repo, r.key(), &image.id, true)?;
    }
    tracing::debug!(image = %short_id(&image.id), "imported");
    Ok(image.id)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn import_from_stdin_makes_a_one_layer_image() {
        let t = TestGraph::new();
        let tar = layer_tar(b"imported");
        let env = [("json", "1"), ("message", ""), ("changes", r#"["CMD [\"/bin/sh\"]","ENV A=b"]"#)];
        let (result, out) = t.run("import", &["-", "captest/imported", "a"], &env, Some(tar.clone())).await;
        result.unwrap();
        let text = String::from_utf8(out).unwrap();
        let last: serde_json::Value = serde_json::from_str(text.trim_end().lines().last().unwrap()).unwrap();
        let id = last["status"].as_str().unwrap().to_string();
        assert!(id.starts_with("sha256:"), "{text}");
        assert_eq!(t.graph.tags().get("captest/imported", "a").as_deref(), Some(id.as_str()));
        let image = t.graph.images().get(&id).unwrap();
        assert_eq!(image.config.rootfs.diff_ids, [super::super::util::sha256_digest(&tar)]);
        assert_eq!(image.config.history[0].comment, "Imported from -");
        assert_eq!(image.config.config["Cmd"], serde_json::json!(["/bin/sh"]));
        assert_eq!(image.config.config["Env"], serde_json::json!(["A=b"]));
        assert_eq!(image.config.os, "linux");

        // gzip'd, untagged.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &layer_tar(b"zipped")).unwrap();
        let (result, _) = t.run("import", &["-", ""], &[("json", "1")], Some(gz.finish().unwrap())).await;
        result.unwrap();
        assert_eq!(t.graph.images().list().len(), 2);

        let (result, _) = t.run("import", &["-", "Bad Repo"], &[], Some(Vec::new())).await;
        assert_eq!(result.unwrap_err().0, engine::ErrorKind::BadParameter);
        let (result, _) = t.run("import", &["-", "x"], &[("changes", r#"["RUN x"]"#)], Some(Vec::new())).await;
        assert_eq!(result.unwrap_err().0, engine::ErrorKind::BadParameter);
    }
}
