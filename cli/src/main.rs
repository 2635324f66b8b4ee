//! The `docker` binary (`docker/docker.go` of Docker 1.2): parse the
//! top-level flags; `-v` prints the version; `-d` runs the daemon; anything
//! else is a client command found by name.
//!
//! The container init (Docker 1.2's `dockerinit`, chosen by `argv[0]`
//! before anything else runs) joins this entry point with the exec driver.
#![forbid(unsafe_code)]

mod client;
mod commands;
mod daemon_main;
mod flags;
mod options;
mod trap;

use api_server::parse_host;
use flags::ParseError;

fn main() {
    // The container init (argv[0] "dockerinit"): before any runtime or thread.
    if execdriver::init::is_init() {
        execdriver::init::main();
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(run(args));
}

fn init_logging(debug: bool, daemon: bool) {
    let level = if debug {
        tracing::Level::DEBUG
    } else if daemon {
        tracing::Level::INFO
    } else {
        tracing::Level::WARN
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

fn run(args: Vec<String>) -> i32 {
    let mut flags = options::top_level();
    let rest = match flags.parse(args) {
        Ok(rest) => rest,
        Err(ParseError::Help) => {
            print!("{}", commands::help_text());
            return 0;
        }
        Err(ParseError::Invalid(msg)) => {
            eprintln!("docker: {msg}. See 'docker --help'.");
            return 2;
        }
    };
    if flags.get_bool("version") {
        println!("Docker version {}, build {}", builtins::VERSION, builtins::GIT_COMMIT);
        return 0;
    }
    let debug = flags.get_bool("debug");
    let daemon = flags.get_bool("daemon");
    init_logging(debug, daemon);

    let mut hosts = flags.get_list("host");
    if hosts.is_empty() {
        // The daemon ignores DOCKER_HOST, as in 1.2.
        let env_host = if daemon { String::new() } else { std::env::var("DOCKER_HOST").unwrap_or_default() };
        match parse_host(&env_host) {
            Ok(h) => hosts.push(h.to_string()),
            Err(e) => {
                eprintln!("docker: DOCKER_HOST: {e}");
                return 1;
            }
        }
    }

    if daemon {
        if !rest.is_empty() {
            eprintln!("docker: the daemon takes no arguments, got {:?}. See 'docker --help'.", rest.join(" "));
            return 2;
        }
        let config = match options::daemon_config(&flags, debug) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("docker: {e}. See 'docker --help'.");
                return 2;
            }
        };
        let serve = daemon_main::ServeOptions {
            hosts,
            group: flags.get_string("group"),
            enable_cors: flags.get_bool("api-enable-cors"),
            tls: flags.get_bool("tls"),
            tls_verify: flags.get_bool("tlsverify"),
            tls_ca: flags.get_string("tlscacert"),
            tls_cert: flags.get_string("tlscert"),
            tls_key: flags.get_string("tlskey"),
        };
        return daemon_main::main(config, serve);
    }

    if hosts.len() > 1 {
        eprintln!("Please specify only one -H");
        return 1;
    }
    let host = match parse_host(&hosts[0]) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("docker: {e}");
            return 1;
        }
    };
    let env_verify = std::env::var("DOCKER_TLS_VERIFY").is_ok_and(|v| !v.is_empty());
    let verify = flags.get_bool("tlsverify") || env_verify;
    let tls = (verify || flags.get_bool("tls")).then(|| client::tls::ClientTls {
        verify,
        ca: flags.get_string("tlscacert"),
        cert: flags.get_string("tlscert"),
        key: flags.get_string("tlskey"),
    });
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("docker: could not start the async runtime: {e}");
            return 1;
        }
    };
    let result = runtime.block_on(async move {
        let cli = client::DockerCli::new(host, tls)?;
        commands::dispatch(&cli, rest).await
    });
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{e}");
            e.exit_code()
        }
    }
}
