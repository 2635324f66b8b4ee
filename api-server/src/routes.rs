//! The route table of Remote API v1.24: every container, image, exec,
//! network, volume and system endpoint, in one place (as `createRouter` of
//! Docker 1.2 had it). Each path is also served under a `/vX.Y` prefix.
//!
//! A route whose job is not registered (its subsystem has not landed yet)
//! answers 501 with a message naming the job; see `router.rs`.
//!
//! Not served: `/containers/{name}/attach/ws` (WebSocket attach) and the
//! swarm endpoints (`/nodes`, `/services`, `/swarm`, `/tasks`).

use http::Method;

use crate::route::{Action, BodyMode, Route};
use crate::{containers, exec, images, networks, system};

const fn route(method: Method, path: &'static str, body: BodyMode, action: Action) -> Route {
    Route { method, path, body, action }
}

use Action::{Job, Ping};
use BodyMode::{Json, None as NoBody, Stream};

/// Every route, matched in order (no two patterns overlap).
pub static ROUTES: &[Route] = &[
    // System.
    route(Method::GET, "/_ping", NoBody, Ping),
    route(Method::HEAD, "/_ping", NoBody, Ping),
    route(Method::GET, "/version", NoBody, Job(system::version)),
    route(Method::GET, "/info", NoBody, Job(system::info)),
    route(Method::GET, "/events", NoBody, Job(system::events)),
    route(Method::POST, "/auth", Json, Job(system::auth)),
    route(Method::POST, "/commit", Json, Job(system::commit)),
    route(Method::POST, "/build", Stream, Job(system::build)),
    // Containers.
    route(Method::GET, "/containers/json", NoBody, Job(containers::list)),
    route(Method::GET, "/containers/ps", NoBody, Job(containers::list)),
    route(Method::POST, "/containers/create", Json, Job(containers::create)),
    route(Method::GET, "/containers/{name}/json", NoBody, Job(containers::inspect)),
    route(Method::GET, "/containers/{name}/top", NoBody, Job(containers::top)),
    route(Method::GET, "/containers/{name}/logs", NoBody, Job(containers::logs)),
    route(Method::GET, "/containers/{name}/changes", NoBody, Job(containers::changes)),
    route(Method::GET, "/containers/{name}/export", NoBody, Job(containers::export)),
    route(Method::GET, "/containers/{name}/stats", NoBody, Job(containers::stats)),
    route(Method::POST, "/containers/{name}/resize", NoBody, Job(containers::resize)),
    route(Method::POST, "/containers/{name}/start", Json, Job(containers::start)),
    route(Method::POST, "/containers/{name}/stop", NoBody, Job(containers::stop)),
    route(Method::POST, "/containers/{name}/restart", NoBody, Job(containers::restart)),
    route(Method::POST, "/containers/{name}/kill", NoBody, Job(containers::kill)),
    route(Method::POST, "/containers/{name}/update", Json, Job(containers::update)),
    route(Method::POST, "/containers/{name}/rename", NoBody, Job(containers::rename)),
    route(Method::POST, "/containers/{name}/pause", NoBody, Job(containers::pause)),
    route(Method::POST, "/containers/{name}/unpause", NoBody, Job(containers::unpause)),
    route(Method::POST, "/containers/{name}/attach", NoBody, Job(containers::attach)),
    route(Method::POST, "/containers/{name}/wait", NoBody, Job(containers::wait)),
    // Greedy as dockerd's `{name:.*}`: `rm -l /web/db` sends
    // `DELETE /containers//web/db?link=1`.
    route(Method::DELETE, "/containers/{name*}", NoBody, Job(containers::delete)),
    route(Method::POST, "/containers/{name}/copy", Json, Job(containers::copy)),
    route(Method::HEAD, "/containers/{name}/archive", NoBody, Job(containers::archive_stat)),
    route(Method::GET, "/containers/{name}/archive", NoBody, Job(containers::archive_get)),
    route(Method::PUT, "/containers/{name}/archive", Stream, Job(containers::archive_put)),
    // Exec.
    route(Method::POST, "/containers/{name}/exec", Json, Job(exec::create)),
    route(Method::POST, "/exec/{name}/start", Json, Job(exec::start)),
    route(Method::POST, "/exec/{name}/resize", NoBody, Job(exec::resize)),
    route(Method::GET, "/exec/{name}/json", NoBody, Job(exec::inspect)),
    // Images.
    route(Method::GET, "/images/json", NoBody, Job(images::list)),
    route(Method::GET, "/images/search", NoBody, Job(system::search)),
    route(Method::GET, "/images/get", NoBody, Job(images::export_many)),
    route(Method::POST, "/images/create", Stream, Job(images::create)),
    route(Method::POST, "/images/load", Stream, Job(images::load)),
    route(Method::GET, "/images/{name*}/json", NoBody, Job(images::inspect)),
    route(Method::GET, "/images/{name*}/history", NoBody, Job(images::history)),
    route(Method::GET, "/images/{name*}/get", NoBody, Job(images::export_one)),
    route(Method::POST, "/images/{name*}/push", NoBody, Job(images::push)),
    route(Method::POST, "/images/{name*}/tag", NoBody, Job(images::tag)),
    route(Method::DELETE, "/images/{name*}", NoBody, Job(images::delete)),
    // Networks and volumes (v1.21+).
    route(Method::GET, "/networks", NoBody, Job(networks::list)),
    route(Method::POST, "/networks/create", Json, Job(networks::create)),
    route(Method::GET, "/networks/{name}", NoBody, Job(networks::inspect)),
    route(Method::POST, "/networks/{name}/connect", Json, Job(networks::connect)),
    route(Method::POST, "/networks/{name}/disconnect", Json, Job(networks::disconnect)),
    route(Method::DELETE, "/networks/{name}", NoBody, Job(networks::delete)),
    route(Method::GET, "/volumes", NoBody, Job(networks::volume_list)),
    route(Method::POST, "/volumes/create", Json, Job(networks::volume_create)),
    route(Method::GET, "/volumes/{name}", NoBody, Job(networks::volume_inspect)),
    route(Method::DELETE, "/volumes/{name}", NoBody, Job(networks::volume_delete)),
];

/// The route for a method and an unversioned path, with its `{name}`.
pub fn find(method: &Method, path: &str) -> Option<(&'static Route, String)> {
    ROUTES.iter().filter(|r| r.method == *method).find_map(|r| r.matches(path).map(|name| (r, name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_two_routes_claim_the_same_request() {
        let samples = [
            (Method::GET, "/images/json"),
            (Method::GET, "/images/get"),
            (Method::GET, "/images/search"),
            (Method::GET, "/images/busybox/json"),
            (Method::GET, "/images/127.0.0.1:5000/busybox:latest/json"),
            (Method::POST, "/images/create"),
            (Method::POST, "/images/load"),
            (Method::POST, "/images/a/b/push"),
            (Method::DELETE, "/images/a/b:c"),
            (Method::GET, "/containers/json"),
            (Method::GET, "/containers/web/json"),
            (Method::POST, "/containers/create"),
            (Method::POST, "/networks/create"),
            (Method::GET, "/networks/bridge"),
            (Method::POST, "/volumes/create"),
        ];
        for (method, path) in samples {
            let hits: Vec<_> = ROUTES.iter().filter(|r| r.method == method && r.matches(path).is_some()).collect();
            assert_eq!(hits.len(), 1, "{method} {path}: {:?}", hits.iter().map(|r| r.path).collect::<Vec<_>>());
        }
    }

    #[test]
    fn finds_names() {
        let (route, name) = find(&Method::GET, "/images/127.0.0.1:5000/busybox:latest/json").unwrap();
        assert_eq!(route.path, "/images/{name*}/json");
        assert_eq!(name, "127.0.0.1:5000/busybox:latest");
        assert!(find(&Method::GET, "/nope").is_none());
        assert!(find(&Method::PUT, "/version").is_none());
        assert!(find(&Method::HEAD, "/_ping").is_some());
    }
}
