//! `docker login` and `docker logout` (`CmdLogin`/`CmdLogout` of Docker
//! 1.2): credentials are checked by the daemon (`POST /auth`) and kept in
//! the client's config file (`registry::config_file`), keyed by registry
//! (`https://index.docker.io/v1/` for Docker Hub).
//!
//! As today's CLI: `--password-stdin`, a warning for `-p`, no e-mail
//! prompt, an identity token from the daemon replaces the password, and
//! prompting needs a terminal. As 1.2: with no password given, the stored
//! one is reused when the user name did not change.

use std::io::{BufRead, IsTerminal, Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::Method;
use registry::AuthConfig;
use registry::config_file::server_key;
use registry::reference::DEFAULT_DOMAIN;
use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
use serde_json::Value;

use super::Subcmd;
use super::args::{Count, check};
use super::registry_auth::{load_config, server_domain};
use crate::client::{CliError, DockerCli};

/// `docker login`.
pub async fn cmd_login(cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new(
        "login",
        "[OPTIONS] [SERVER]",
        "Log in to a registry.\nIf no server is specified, the default is defined by the daemon.",
    );
    cmd.flags.string(&["u", "-username"], "", "Username");
    cmd.flags.string(&["p", "-password"], "", "Password");
    cmd.flags.bool(&["-password-stdin"], false, "Take the password from stdin");
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("login", &rest, Count::Between(0, 1))?;
    let key = server_key(&rest.first().map_or_else(|| DEFAULT_DOMAIN.to_string(), |s| server_domain(s)));
    let mut config = load_config();
    let stored = config.auth_for(&key);

    let mut username = cmd.flags.get_string("username").trim().to_string();
    let mut password = cmd.flags.get_string("password");
    if !password.is_empty() {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
        if cmd.flags.get_bool("password-stdin") {
            return Err(CliError::Usage("--password and --password-stdin are mutually exclusive".into()));
        }
    }
    if cmd.flags.get_bool("password-stdin") {
        if username.is_empty() {
            return Err(CliError::Usage("Must provide --username with --password-stdin".into()));
        }
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::Other(format!("reading the password from stdin: {e}")))?;
        password = text.trim_end_matches(['\n', '\r']).to_string();
    }
    let interactive = std::io::stdin().is_terminal();
    if username.is_empty() {
        if !interactive {
            return Err(CliError::Other("Error: Cannot perform an interactive login from a non TTY device".into()));
        }
        let prompt = if stored.username.is_empty() {
            "Username: ".to_string()
        } else {
            format!("Username ({}): ", stored.username)
        };
        username = read_line(&prompt, true)?.trim().to_string();
        if username.is_empty() {
            username = stored.username.clone();
        }
    }
    if username.is_empty() {
        return Err(CliError::Other("Error: Non-null Username Required".into()));
    }
    if password.is_empty() {
        if username == stored.username && !stored.password.is_empty() {
            password = stored.password.clone();
        } else if interactive {
            password = read_line("Password: ", false)?;
        } else {
            return Err(CliError::Other("Error: Cannot perform an interactive login from a non TTY device".into()));
        }
    }
    if password.is_empty() {
        return Err(CliError::Other("Error: Password Required".into()));
    }

    let request = AuthConfig {
        username: username.clone(),
        password: password.clone(),
        serveraddress: key.clone(),
        ..Default::default()
    };
    let body = serde_json::to_vec(&request).map_err(|e| CliError::Other(format!("encoding the login: {e}")))?;
    let answer = cli.call(Method::POST, "/auth", Some(Bytes::from(body))).await?;
    let answer: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
    let token = answer.get("IdentityToken").and_then(Value::as_str).unwrap_or_default().to_string();

    config.set_auth(&key, stored_credentials(&username, &password, &key, &token));
    config.save().map_err(|e| CliError::Other(format!("Error saving credentials: {e}")))?;
    eprintln!("WARNING! Your credentials are stored unencrypted in '{}'.", config.path.display());
    let status = answer.get("Status").and_then(Value::as_str).filter(|s| !s.is_empty()).unwrap_or("Login Succeeded");
    println!("{status}");
    Ok(())
}

/// What the config file keeps: an identity token replaces the password.
fn stored_credentials(username: &str, password: &str, key: &str, token: &str) -> AuthConfig {
    let password = if token.is_empty() { password } else { "" };
    AuthConfig {
        username: username.to_string(),
        password: password.to_string(),
        auth: STANDARD.encode(format!("{username}:{password}")),
        serveraddress: key.to_string(),
        identitytoken: token.to_string(),
        ..Default::default()
    }
}

/// Prompts on stdout and reads one line from the terminal on stdin, with
/// echo off for a password.
fn read_line(prompt: &str, echo: bool) -> Result<String, CliError> {
    let failed = |e: std::io::Error| CliError::Other(format!("reading from the terminal: {e}"));
    print!("{prompt}");
    std::io::stdout().flush().map_err(failed)?;
    let stdin = std::io::stdin();
    let saved = if echo { None } else { tcgetattr(&stdin).ok() };
    if let Some(saved) = &saved {
        let mut quiet = saved.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        let _ = tcsetattr(&stdin, OptionalActions::Now, &quiet);
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if let Some(saved) = &saved {
        let _ = tcsetattr(&stdin, OptionalActions::Now, saved);
        println!();
    }
    read.map_err(failed)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// `docker logout`.
pub async fn cmd_logout(_cli: &DockerCli, args: Vec<String>) -> Result<(), CliError> {
    let mut cmd = Subcmd::new(
        "logout",
        "[SERVER]",
        "Log out from a registry.\nIf no server is specified, the default is defined by the daemon.",
    );
    let Some(rest) = cmd.parse(args)? else { return Ok(()) };
    check("logout", &rest, Count::Between(0, 1))?;
    let key = server_key(&rest.first().map_or_else(|| DEFAULT_DOMAIN.to_string(), |s| server_domain(s)));
    let mut config = load_config();
    if config.remove_auth(&key) {
        println!("Removing login credentials for {key}");
        config.save().map_err(|e| CliError::Other(format!("Failed to save docker config: {e}")))?;
    } else {
        println!("Not logged in to {key}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_credentials_prefer_an_identity_token() {
        let plain = stored_credentials("u", "p", "127.0.0.1:5000", "");
        assert_eq!((plain.password.as_str(), plain.auth.as_str()), ("p", "dTpw"));
        let token = stored_credentials("u", "p", "127.0.0.1:5000", "tok");
        assert_eq!((token.password.as_str(), token.identitytoken.as_str()), ("", "tok"));
    }
}
