//! `docker create` (`CmdCreate` of Docker 1.2): the flags of
//! [`super::runflags`] become one `POST /containers/create?name=`; when
//! the daemon lacks the image (404), it is pulled with its progress on
//! stderr and the create is tried once more, then the new ID is printed.
//! Warnings the daemon returns go to stderr, as today's CLI prints them.
//! With `--cidfile`, the new ID is also written to that file, which must
//! not exist beforehand (Docker 1.2's `CmdRun`).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use http::Method;
use runconfig::container::CreateResponse;

use super::Subcmd;
use super::pull::{self, Progress};
use super::runflags::{self, ContainerSpec};
use crate::client::{CliError, DockerCli};

/// `docker create`.
pub async fn cmd_create(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new("create", "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container");
    runflags::declare(&mut cmd.flags);
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    let spec = runflags::spec("create", &cmd.flags, &rest)?;
    let created = create_container(cli, &spec).await?;
    println!("{}", created.id);
    Ok(())
}

/// Creates the container, pulling its image first when the daemon has
/// none by that name.
pub async fn create_container(cli: &DockerCli, spec: &ContainerSpec) -> Result<CreateResponse, CliError> {
    for warning in &spec.warnings {
        eprintln!("WARNING: {warning}");
    }
    let mut cid_file = match spec.host_config.container_id_file.as_str() {
        "" => None,
        path => Some(CidFile::create(Path::new(path))?),
    };
    let created = match try_create(cli, spec).await? {
        Some(created) => created,
        None => {
            eprintln!("Unable to find image '{}' locally", tagged(&spec.image));
            pull::pull_image(cli, &spec.image, Progress::Stderr).await?;
            try_create(cli, spec)
                .await?
                .ok_or_else(|| CliError::Daemon(format!("No such image: {}", tagged(&spec.image))))?
        }
    };
    for warning in &created.warnings {
        eprintln!("WARNING: {warning}");
    }
    if let Some(file) = &mut cid_file {
        file.write(&created.id)?;
    }
    Ok(created)
}

/// The `--cidfile`, created before the container is; removed again if no
/// ID was written to it, so a failed create leaves nothing behind.
struct CidFile {
    path: PathBuf,
    file: File,
    written: bool,
}

impl CidFile {
    fn create(path: &Path) -> Result<CidFile, CliError> {
        // `create_new` also closes the race between two runs given one file.
        match File::options().write(true).create_new(true).open(path) {
            Ok(file) => Ok(CidFile { path: path.to_path_buf(), file, written: false }),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(CliError::Other(format!(
                "Container ID file found, make sure the other container isn't running or delete {}",
                path.display()
            ))),
            Err(e) => Err(CliError::Other(format!("Failed to create the container ID file: {e}"))),
        }
    }

    fn write(&mut self, id: &str) -> Result<(), CliError> {
        self.file
            .write_all(id.as_bytes())
            .map_err(|e| CliError::Other(format!("Failed to write the container ID to the file: {e}")))?;
        self.written = true;
        Ok(())
    }
}

impl Drop for CidFile {
    fn drop(&mut self) {
        if !self.written {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// One create request; `None` when the daemon lacks the image. The 404
/// is told from other failures by the daemon's `No such image:` wording,
/// since the client's `call` keeps only the message of an error answer.
async fn try_create(cli: &DockerCli, spec: &ContainerSpec) -> Result<Option<CreateResponse>, CliError> {
    let mut path = "/containers/create".to_string();
    if !spec.name.is_empty() {
        path.push('?');
        path.push_str(&form_urlencoded::Serializer::new(String::new()).append_pair("name", &spec.name).finish());
    }
    match cli.call(Method::POST, &path, Some(Bytes::from(spec.body()?))).await {
        Ok(body) => serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| CliError::Other(format!("Error reading the daemon's answer to create: {e}"))),
        Err(CliError::Daemon(message)) if message.starts_with("No such image:") => Ok(None),
        Err(e) => Err(e),
    }
}

/// The image as the CLI names it in the pull notice: `latest` added when
/// no tag or digest is given.
fn tagged(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    if last.contains(':') || image.contains('@') { image.to_string() } else { format!("{image}:latest") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_notice_names() {
        assert_eq!(tagged("busybox"), "busybox:latest");
        assert_eq!(tagged("busybox:1.36"), "busybox:1.36");
        assert_eq!(tagged("127.0.0.1:5000/busybox"), "127.0.0.1:5000/busybox:latest");
        assert_eq!(tagged("busybox@sha256:ab"), "busybox@sha256:ab");
    }

    #[test]
    fn cid_file_is_new_and_kept_only_with_an_id() {
        let path = std::env::temp_dir().join(format!("cidfile-test-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        drop(CidFile::create(&path).unwrap());
        assert!(!path.exists(), "nothing written: removed");
        let mut f = CidFile::create(&path).unwrap();
        let e = CidFile::create(&path).err().unwrap();
        assert_eq!(
            e.to_string(),
            format!(
                "Container ID file found, make sure the other container isn't running or delete {}",
                path.display()
            )
        );
        f.write("abc").unwrap();
        drop(f);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "abc");
        std::fs::remove_file(&path).unwrap();
        assert!(CidFile::create(Path::new("/no/such/dir/cid")).is_err());
    }
}
