//! `Daemon`: the daemon object of Docker 1.2 (`daemon/daemon.go`), set up
//! the way `NewDaemonFromDirectory` did: check the configuration, claim the
//! pidfile (released at shutdown), require root, warn on old kernels, create
//! the root directory and its layout, pick the storage driver.
//!
//! It opens the image store (`graph`) on the chosen driver and installs the
//! image jobs with a registry client that knows `--insecure-registry`, then
//! loads the container store (`<root>/containers`) and installs the
//! container jobs; networking joins in later.

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use engine::{Engine, EngineError, names};
use graph::Graph;
use graph::jobs::ImageService;

use crate::config::Config;
use crate::pidfile::Pidfile;
use crate::runtime::Runtime;
use crate::store::ContainerStore;
use crate::{
    DaemonError, archive, attach, changes, commit, create, delete, exec, exec_start, export, image_delete, info,
    inspect, kill, lifecycle, list, logs, network_inspect, pause, rename, resize, restart, start, stats, stop, sysinfo,
    top, update, volume_inspect, wait,
};

/// The state directories under the root (`-g`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootLayout {
    /// The root itself, symlinks resolved.
    pub root: PathBuf,
    /// `containers/<id>/`: config, state, logs of each container.
    pub containers: PathBuf,
    /// `graph/<image id>/`: image metadata.
    pub graph: PathBuf,
    /// `volumes/`: volume metadata.
    pub volumes: PathBuf,
    /// `tmp/`: scratch space on the same file system.
    pub tmp: PathBuf,
}

impl RootLayout {
    fn new(root: PathBuf) -> Self {
        Self {
            containers: root.join("containers"),
            graph: root.join("graph"),
            volumes: root.join("volumes"),
            tmp: root.join("tmp"),
            root,
        }
    }

    /// Creates every directory (mode 0700, as Docker's root).
    fn create(&self) -> Result<(), DaemonError> {
        for dir in [&self.root, &self.containers, &self.graph, &self.volumes, &self.tmp] {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| DaemonError::Io { path: dir.clone(), source: e })?;
        }
        Ok(())
    }
}

/// The daemon. Cheap to clone.
#[derive(Clone)]
pub struct Daemon {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    layout: RootLayout,
    driver: String,
    id: String,
    graph: Arc<Graph>,
    containers: ContainerStore,
    runtime: Runtime,
    execs: exec::ExecStore,
    engine: Engine,
}

impl Daemon {
    /// Sets the daemon up (blocking file-system work: run it off the async
    /// runtime's worker threads).
    pub fn new(mut config: Config, eng: &Engine) -> Result<Daemon, DaemonError> {
        config.validate().map_err(DaemonError::Config)?;
        if config.mtu == 0 {
            config.mtu = sysinfo::default_route_mtu();
        }
        // Claim the pidfile before anything else, so two daemons on one
        // root cannot both get further.
        if !config.pidfile.as_os_str().is_empty() {
            let pidfile = Pidfile::claim(&config.pidfile)?;
            // A shutdown that started before the claim would never run this
            // hook: give the pidfile back now instead.
            if eng.is_shutdown() {
                pidfile.remove();
                return Err(DaemonError::ShuttingDown);
            }
            eng.on_shutdown(move || async move { pidfile.remove() });
        }
        if !nix::unistd::geteuid().is_root() {
            return Err(DaemonError::NotRoot);
        }
        check_kernel();

        let root = if config.root.exists() {
            config.root.canonicalize().map_err(|e| DaemonError::Io { path: config.root.clone(), source: e })?
        } else {
            config.root.clone()
        };
        let layout = RootLayout::new(root);
        layout.create()?;
        config.root = layout.root.clone();
        if !config.network_disabled() {
            crate::netinit::init_network(&config, eng)?;
        }
        let driver = choose_storage_driver(&config);
        let id = load_or_create_id(&layout.root)?;
        let graph = Graph::new(&layout.root, &driver, &config.graph_options).map_err(DaemonError::Graph)?;
        let containers = ContainerStore::load(&layout.containers).map_err(|e| DaemonError::Containers(Box::new(e)))?;
        tracing::info!(root = %layout.root.display(), storage_driver = %driver, exec_driver = %config.exec_driver, "daemon set up");
        Ok(Daemon {
            inner: Arc::new(Inner {
                config,
                layout,
                driver,
                id,
                graph: Arc::new(graph),
                containers,
                runtime: Runtime::new(),
                execs: exec::ExecStore::default(),
                engine: eng.clone(),
            }),
        })
    }

    /// Registers the daemon's jobs.
    pub fn install(&self, eng: &Engine) -> Result<(), EngineError> {
        let daemon = self.clone();
        eng.register(names::INFO, move |job| info::info(daemon.clone(), job))?;
        let registry = registry::Service::new(registry::ServiceOptions {
            insecure_registries: self.inner.config.insecure_registries.clone(),
        });
        graph::jobs::install(eng, ImageService { graph: self.inner.graph.clone(), registry })?;
        let daemon = self.clone();
        eng.register(names::image::DELETE, move |job| image_delete::image_delete(daemon.clone(), job))?;
        use names::container as jobs;
        let daemon = self.clone();
        eng.register(jobs::CREATE, move |job| create::create(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::INSPECT, move |job| inspect::inspect(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::LIST, move |job| list::list(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::DELETE, move |job| delete::delete(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::RENAME, move |job| rename::rename(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::START, move |job| start::start(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::STOP, move |job| stop::stop(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::KILL, move |job| kill::kill(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::WAIT, move |job| wait::wait(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::RESTART, move |job| restart::restart(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::PAUSE, move |job| pause::pause(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::UNPAUSE, move |job| pause::unpause(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::LOGS, move |job| logs::logs(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::ATTACH, move |job| attach::attach(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::RESIZE, move |job| resize::resize(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::TOP, move |job| top::top(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(names::exec::CREATE, move |job| exec::exec_create(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(names::exec::START, move |job| exec_start::exec_start(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(names::exec::INSPECT, move |job| exec::exec_inspect(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(names::exec::RESIZE, move |job| exec::exec_resize(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::STATS, move |job| stats::stats(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::UPDATE, move |job| update::update(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::CHANGES, move |job| changes::changes(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::EXPORT, move |job| export::export(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::COPY, move |job| archive::copy(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::ARCHIVE_STAT, move |job| archive::archive_stat(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::ARCHIVE_GET, move |job| archive::archive_get(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::ARCHIVE_PUT, move |job| archive::archive_put(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(jobs::COMMIT, move |job| commit::commit(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(names::network::INSPECT, move |job| network_inspect::network_inspect(daemon.clone(), job))?;
        let daemon = self.clone();
        eng.register(names::network::VOLUME_INSPECT, move |job| volume_inspect::volume_inspect(daemon.clone(), job))?;
        lifecycle::install(self);
        Ok(())
    }

    /// The configuration, defaults applied.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The state directories.
    pub fn layout(&self) -> &RootLayout {
        &self.inner.layout
    }

    /// The storage driver in use.
    pub fn storage_driver(&self) -> &str {
        &self.inner.driver
    }

    /// The image store.
    pub fn graph(&self) -> &Arc<Graph> {
        &self.inner.graph
    }

    /// The containers.
    pub fn containers(&self) -> &ContainerStore {
        &self.inner.containers
    }

    /// The exec driver and the containers' live side.
    pub fn runtime(&self) -> &Runtime {
        &self.inner.runtime
    }

    /// The `docker exec` instances (in memory, as dockerd keeps them).
    pub(crate) fn execs(&self) -> &exec::ExecStore {
        &self.inner.execs
    }

    /// The engine the daemon's jobs run on (the monitor emits events
    /// through it).
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The daemon's persistent identity.
    pub fn id(&self) -> &str {
        &self.inner.id
    }
}

/// `-s` when given (already validated); else overlay where the kernel has
/// it, else vfs.
fn choose_storage_driver(config: &Config) -> String {
    if !config.graph_driver.is_empty() {
        return config.graph_driver.clone();
    }
    if sysinfo::overlay_supported() { "overlay".to_string() } else { "vfs".to_string() }
}

/// Docker 1.2 warned below kernel 3.8.
fn check_kernel() {
    let release = sysinfo::kernel_version();
    let mut parts = release.split(|c: char| !c.is_ascii_digit()).filter_map(|p| p.parse::<u32>().ok());
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if (major, minor) < (3, 8) {
        tracing::warn!(
            "You are running linux kernel version {release}, which might be unstable running docker. Please upgrade your kernel to 3.8.0."
        );
    }
}

/// A stable identity for `info`'s `ID`, kept in `<root>/engine-id`, shaped
/// like dockerd's (12 groups of 4 base32 characters).
fn load_or_create_id(root: &Path) -> Result<String, DaemonError> {
    let path = root.join("engine-id");
    if let Ok(id) = std::fs::read_to_string(&path)
        && !id.trim().is_empty()
    {
        return Ok(id.trim().to_string());
    }
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bytes = [0u8; 48];
    getrandom::fill(&mut bytes)
        .map_err(|e| DaemonError::Io { path: path.clone(), source: std::io::Error::other(e) })?;
    let chars: Vec<char> = bytes.iter().map(|b| ALPHABET[(*b & 31) as usize] as char).collect();
    let id = chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join(":");
    crate::atomic::write_file(&path, id.as_bytes())?;
    Ok(id)
}
