//! The client commands, found by name: the Rust stand-in for Docker 1.2's
//! reflection on `DockerCli.CmdXxx` methods (`api/client/cli.go`).
//!
//! Adding a command is one async function `cmd_xxx(&DockerCli, Vec<String>)`
//! plus one line in [`COMMANDS`]. Commands run on a single-threaded runtime,
//! so their futures need not be `Send`. Names are matched the way the original
//! built method names (first letter upper-cased, the rest lower-cased), so
//! `PS`, `Ps` and `ps` are the same command.
//!
//! Departures: an unknown command is an error (exit 1), where 1.2 printed
//! the help and exited 0; help goes to stdout.

mod args;
mod attach;
mod commit;
mod cp;
mod create;
mod events;
mod exec;
mod filesystem;
mod format;
mod history;
mod images;
mod import;
mod info;
mod inspect;
mod lifecycle;
mod login;
mod port;
mod progress;
mod ps;
mod pull;
mod registry_auth;
mod rm;
mod rmi;
mod run;
mod runflags;
mod save_load;
mod search;
mod stats;
mod tag;
mod template;
mod update;
mod version;

use futures_util::future::LocalBoxFuture;

use crate::client::{CliError, DockerCli};
use crate::flags::{FlagSet, ParseError};

/// A command's entry point.
pub type CmdFn = for<'a> fn(&'a DockerCli, Vec<String>) -> LocalBoxFuture<'a, Result<(), CliError>>;

/// One client command.
pub struct Command {
    /// What the user types.
    pub name: &'static str,
    /// The line `docker help` shows.
    pub description: &'static str,
    /// The `CmdXxx` function.
    pub run: CmdFn,
}

macro_rules! command {
    ($name:literal, $description:literal, $f:path) => {
        Command { name: $name, description: $description, run: |cli, args| Box::pin($f(cli, args)) }
    };
}

/// Every command, in `docker help` order.
pub static COMMANDS: &[Command] = &[
    command!("attach", "Attach to a running container", attach::cmd_attach),
    command!("commit", "Create a new image from a container's changes", commit::cmd_commit),
    command!("cp", "Copy files/folders between a container and the local filesystem", cp::cmd_cp),
    command!("create", "Create a new container", create::cmd_create),
    command!("diff", "Inspect changes on a container's filesystem", filesystem::cmd_diff),
    command!("events", "Get real time events from the server", events::cmd_events),
    command!("exec", "Run a command in a running container", exec::cmd_exec),
    command!("export", "Stream the contents of a container as a tar archive", filesystem::cmd_export),
    command!("history", "Show the history of an image", history::cmd_history),
    command!("images", "List images", images::cmd_images),
    command!("import", "Create a new filesystem image from the contents of a tarball", import::cmd_import),
    command!("info", "Display system-wide information", info::cmd_info),
    command!("inspect", "Return low-level information on a container or image", inspect::cmd_inspect),
    command!("kill", "Kill a running container", lifecycle::cmd_kill),
    command!("load", "Load an image from a tar archive", save_load::cmd_load),
    command!("login", "Register or log in to a Docker registry server", login::cmd_login),
    command!("logout", "Log out from a Docker registry server", login::cmd_logout),
    command!("logs", "Fetch the logs of a container", attach::cmd_logs),
    command!("pause", "Pause all processes within a container", lifecycle::cmd_pause),
    command!("port", "Lookup the public-facing port that is NAT-ed to PRIVATE_PORT", port::cmd_port),
    command!("ps", "List containers", ps::cmd_ps),
    command!("pull", "Pull an image or a repository from a Docker registry server", pull::cmd_pull),
    command!("push", "Push an image or a repository to a Docker registry server", pull::cmd_push),
    command!("rename", "Rename a container", rm::cmd_rename),
    command!("restart", "Restart a running container", lifecycle::cmd_restart),
    command!("rm", "Remove one or more containers", rm::cmd_rm),
    command!("rmi", "Remove one or more images", rmi::cmd_rmi),
    command!("run", "Run a command in a new container", run::cmd_run),
    command!("save", "Save an image to a tar archive", save_load::cmd_save),
    command!("search", "Search for an image on the Docker Hub", search::cmd_search),
    command!("start", "Start a stopped container", run::cmd_start),
    command!("stats", "Display a live stream of one or more containers' resource usage statistics", stats::cmd_stats),
    command!("stop", "Stop a running container", lifecycle::cmd_stop),
    command!("tag", "Tag an image into a repository", tag::cmd_tag),
    command!("top", "Lookup the running processes of a container", lifecycle::cmd_top),
    command!("unpause", "Unpause a paused container", lifecycle::cmd_unpause),
    command!("update", "Update configuration of one or more containers", update::cmd_update),
    command!("version", "Show the Docker version information", version::cmd_version),
    command!("wait", "Block until a container stops, then print its exit code", lifecycle::cmd_wait),
];

/// The command a user typed, if there is one by that name.
pub fn find(name: &str) -> Option<&'static Command> {
    let wanted = name.to_lowercase();
    COMMANDS.iter().find(|c| c.name == wanted)
}

/// The general help text: usage, the top-level options, the commands.
pub fn help_text() -> String {
    let mut help = format!(
        "Usage: docker [OPTIONS] COMMAND [arg...]\n -H=[unix://{}]: tcp://host:port to bind/connect to or unix://path/to/socket to use\n\nA self-sufficient runtime for linux containers.\n\nOptions:\n{}\nCommands:\n",
        api_server::hosts::DEFAULT_UNIX_SOCKET,
        crate::options::top_level().usage()
    );
    for c in COMMANDS.iter().chain([&HELP]) {
        let name: String = c.name.chars().take(10).collect();
        help.push_str(&format!("    {name:<10}{}\n", c.description));
    }
    help.push_str("\nRun 'docker COMMAND --help' for more information on a command.\n");
    help
}

static HELP: Command = Command {
    name: "help",
    description: "Show help for docker or for a command",
    run: |cli, args| Box::pin(cmd_help(cli, args)),
};

/// `docker help [COMMAND]`.
async fn cmd_help(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    match args.first() {
        None => {
            print!("{}", help_text());
            Ok(())
        }
        Some(name) => match find(name) {
            Some(c) => (c.run)(cli, vec!["--help".to_string()]).await,
            None => Err(unknown(name)),
        },
    }
}

fn unknown(name: &str) -> CliError {
    CliError::Other(format!("docker: '{name}' is not a docker command. See 'docker help'."))
}

/// Runs `args[0]` with the rest; no args is `docker help`.
pub async fn dispatch(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let Some((name, rest)) = args.split_first() else {
        return cmd_help(cli, Vec::new()).await;
    };
    if name.eq_ignore_ascii_case("help") {
        return cmd_help(cli, rest.to_vec()).await;
    }
    match find(name) {
        Some(c) => (c.run)(cli, rest.to_vec()).await,
        None => Err(unknown(name)),
    }
}

/// A command's own flags (`cli.Subcmd` of 1.2).
pub struct Subcmd {
    /// The flags.
    pub flags: FlagSet,
    name: &'static str,
    signature: &'static str,
    description: &'static str,
}

impl Subcmd {
    /// Flags for `docker NAME SIGNATURE`.
    pub fn new(name: &'static str, signature: &'static str, description: &'static str) -> Self {
        Self { flags: FlagSet::new(name), name, signature, description }
    }

    /// The usage text.
    pub fn usage(&self) -> String {
        format!("\nUsage: docker {} {}\n\n{}\n\n{}", self.name, self.signature, self.description, self.flags.usage())
    }

    /// Parses the command's args. `Ok(None)` means help was asked for and
    /// printed.
    pub fn parse(&mut self, args: Vec<String>) -> Result<Option<Vec<String>>, CliError> {
        match self.flags.parse(args) {
            Ok(rest) => Ok(Some(rest)),
            Err(ParseError::Help) => {
                print!("{}", self.usage());
                Ok(None)
            }
            Err(ParseError::Invalid(msg)) => {
                Err(CliError::Usage(format!("docker {}: {msg}. See 'docker {} --help'.", self.name, self.name)))
            }
        }
    }

    /// The error for unexpected positional arguments.
    pub fn no_args_expected(&self, rest: &[String]) -> CliError {
        CliError::Usage(format!(
            "docker {}: unexpected argument {:?}. See 'docker {} --help'.",
            self.name,
            rest.join(" "),
            self.name
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_like_the_reflection_did() {
        assert_eq!(find("version").unwrap().name, "version");
        assert_eq!(find("VERSION").unwrap().name, "version");
        assert_eq!(find("Info").unwrap().name, "info");
        assert!(find("nosuch").is_none());
        assert!(find("").is_none());
    }

    #[test]
    fn help_lists_every_command() {
        let help = help_text();
        for c in COMMANDS {
            assert!(help.contains(&format!("    {:<10}{}\n", c.name, c.description)), "{}", c.name);
        }
        assert!(help.starts_with("Usage: docker [OPTIONS] COMMAND [arg...]\n"));
    }

    #[test]
    fn the_table_is_sorted_and_unique() {
        let names: Vec<_> = COMMANDS.iter().map(|c| c.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
    }
}
