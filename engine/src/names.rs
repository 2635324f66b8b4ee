//! The job names and env keys that cross crate boundaries.
//!
//! Each job is provided by one crate, but its callers often cannot depend on
//! that crate: the API server (layer 3) runs jobs that `daemon` (layer 3)
//! and `builtins` (layer 4) provide. Declaring the names once here, at the
//! bottom layer, keeps a caller's typo a compile error on both sides.

/// Built into every engine.
pub const COMMANDS: &str = "commands";

/// Provided by `builtins`.
pub const VERSION: &str = "version";
/// Provided by `builtins` (events service): stream events.
pub const EVENTS: &str = "events";
/// Provided by `builtins` (events service): record an event.
pub const LOG: &str = "log";
/// Provided by `builtins` (events service): count live subscribers.
pub const SUBSCRIBERS_COUNT: &str = "subscribers_count";

/// Provided by `api-server`.
pub const SERVEAPI: &str = "serveapi";
/// Provided by `api-server`.
pub const ACCEPTCONNECTIONS: &str = "acceptconnections";

/// Provided by `daemon`.
pub const INFO: &str = "info";

/// Container jobs (provided by `daemon`).
pub mod container {
    #![allow(missing_docs)]
    pub const ATTACH: &str = "attach";
    pub const CHANGES: &str = "container_changes";
    pub const COMMIT: &str = "commit";
    pub const COPY: &str = "container_copy";
    pub const CREATE: &str = "create";
    pub const DELETE: &str = "delete";
    pub const EXPORT: &str = "export";
    pub const INSPECT: &str = "container_inspect";
    pub const KILL: &str = "kill";
    pub const LIST: &str = "containers";
    pub const LOGS: &str = "logs";
    pub const PAUSE: &str = "pause";
    pub const RENAME: &str = "container_rename";
    pub const RESIZE: &str = "resize";
    pub const RESTART: &str = "restart";
    pub const START: &str = "start";
    pub const STATS: &str = "container_stats";
    pub const STOP: &str = "stop";
    pub const TOP: &str = "top";
    pub const UNPAUSE: &str = "unpause";
    pub const UPDATE: &str = "container_update";
    pub const WAIT: &str = "wait";
    pub const ARCHIVE_STAT: &str = "container_archive_stat";
    pub const ARCHIVE_GET: &str = "container_archive_get";
    pub const ARCHIVE_PUT: &str = "container_archive_put";
    pub const BUILD: &str = "build";
}

/// Exec jobs (provided by `daemon`).
pub mod exec {
    #![allow(missing_docs)]
    pub const CREATE: &str = "exec_create";
    pub const START: &str = "exec_start";
    pub const INSPECT: &str = "exec_inspect";
    pub const RESIZE: &str = "exec_resize";
}

/// Image jobs (provided by `graph`, `image_delete` by `daemon`).
pub mod image {
    #![allow(missing_docs)]
    pub const DELETE: &str = "image_delete";
    pub const EXPORT: &str = "image_export";
    pub const HISTORY: &str = "history";
    pub const IMPORT: &str = "import";
    pub const INSPECT: &str = "image_inspect";
    pub const LIST: &str = "images";
    pub const LOAD: &str = "load";
    pub const PULL: &str = "pull";
    pub const PUSH: &str = "push";
    pub const TAG: &str = "tag";
}

/// Registry jobs (provided by `registry`).
pub mod registry {
    #![allow(missing_docs)]
    pub const AUTH: &str = "auth";
    pub const SEARCH: &str = "search";
}

/// The bridge network driver's jobs (provided by `networkdriver`;
/// `init_networkdriver` registered by `builtins`, the other four by
/// `init_networkdriver` itself, so they are missing with `-b none`).
pub mod networkdriver {
    #![allow(missing_docs)]
    pub const INIT: &str = "init_networkdriver";
    pub const ALLOCATE_INTERFACE: &str = "allocate_interface";
    pub const RELEASE_INTERFACE: &str = "release_interface";
    pub const ALLOCATE_PORT: &str = "allocate_port";
    pub const LINK: &str = "link";

    /// Env keys of those jobs (Docker 1.2's names) and of their output objects.
    pub mod env {
        #![allow(missing_docs)]
        // init_networkdriver
        pub const ENABLE_IPTABLES: &str = "EnableIptables";
        pub const ICC: &str = "InterContainerCommunication";
        pub const ENABLE_IP_FORWARD: &str = "EnableIpForward";
        /// Default `docker0`.
        pub const BRIDGE_IFACE: &str = "BridgeIface";
        /// `--bip`, CIDR.
        pub const BRIDGE_IP: &str = "BridgeIP";
        /// `--fixed-cidr`, CIDR.
        pub const FIXED_CIDR: &str = "FixedCIDR";
        /// `--ip`: the default host address of published ports.
        pub const DEFAULT_BINDING_IP: &str = "DefaultBindingIP";
        // allocate_interface (input RequestedIP; output object)
        pub const REQUESTED_IP: &str = "RequestedIP";
        pub const BRIDGE: &str = "Bridge";
        pub const GATEWAY: &str = "Gateway";
        pub const IP: &str = "IP";
        /// Int.
        pub const IP_PREFIX_LEN: &str = "IPPrefixLen";
        /// Hex (`ffff0000`).
        pub const MASK: &str = "Mask";
        pub const MAC_ADDRESS: &str = "MacAddress";
        // allocate_port (input; output HostIP and HostPort)
        pub const HOST_IP: &str = "HostIP";
        /// Int; 0 = any free port of the ephemeral range.
        pub const HOST_PORT: &str = "HostPort";
        /// Int.
        pub const CONTAINER_PORT: &str = "ContainerPort";
        /// `tcp` or `udp`.
        pub const PROTO: &str = "Proto";
        // link (args: `-I` add or `-D` remove)
        pub const PARENT_IP: &str = "ParentIP";
        pub const CHILD_IP: &str = "ChildIP";
        /// Bool.
        pub const IGNORE_ERRORS: &str = "IgnoreErrors";
        /// List of `port/proto`.
        pub const PORTS: &str = "Ports";
    }
}

/// Network and volume jobs of API v1.21+ (provided by `daemon`).
pub mod network {
    #![allow(missing_docs)]
    pub const LIST: &str = "network_list";
    pub const INSPECT: &str = "network_inspect";
    pub const CREATE: &str = "network_create";
    pub const CONNECT: &str = "network_connect";
    pub const DISCONNECT: &str = "network_disconnect";
    pub const DELETE: &str = "network_delete";
    pub const VOLUME_LIST: &str = "volume_list";
    pub const VOLUME_INSPECT: &str = "volume_inspect";
    pub const VOLUME_CREATE: &str = "volume_create";
    pub const VOLUME_DELETE: &str = "volume_delete";
}

/// Env keys shared between the API server and the jobs it runs.
///
/// Query parameters reach jobs under their own names (`all`, `limit`, `t`,
/// ...); the keys below are the ones that do not come from a query name.
pub mod env {
    #![allow(missing_docs)]
    /// A route's JSON request body, as compact JSON text.
    pub const BODY: &str = "body";
    /// Registry credentials (decoded `X-Registry-Auth`), JSON text.
    pub const AUTH_CONFIG: &str = "authConfig";
    /// `X-Meta-*` headers, a JSON object of lists.
    pub const META_HEADERS: &str = "metaHeaders";
    /// The API version of the request (`1.24`), for jobs whose output shape
    /// depends on it.
    pub const API_VERSION: &str = "apiVersion";
    /// Filters, normalised to a JSON object of string lists.
    pub const FILTERS: &str = "filters";
    /// `events`: replay events from this Unix time (seconds, may be fractional).
    pub const SINCE: &str = "since";
    /// `events`: stop at this Unix time.
    pub const UNTIL: &str = "until";
    /// `log`: the event's type (`container`, `image`, ...); default `container`.
    pub const EVENT_TYPE: &str = "Type";
    /// `log`: the event's actor attributes, a JSON object of strings.
    pub const EVENT_ATTRIBUTES: &str = "Attributes";
}
