//! The rules of `Engine` and `Job`, each checked against a real engine.

use std::io::Write;
use std::sync::Arc;

use engine::{Engine, EngineError, ErrorKind, Job, Status, register_global};
use parking_lot::Mutex;

/// An engine log captured in memory.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().clone()).unwrap()
    }
}

fn engine_with_log() -> (Engine, Log) {
    let eng = Engine::new();
    let log = Log::default();
    eng.set_log_writer(log.clone());
    (eng, log)
}

async fn ok(_: Job) -> Status {
    Status::OK
}

async fn fail(job: Job) -> Status {
    job.errorf("it went wrong").await
}

#[tokio::test]
async fn registering_a_taken_name_fails_and_keeps_the_first() {
    let eng = Engine::new();
    eng.register("dup", |job: Job| async move {
        let _ = job.print("first").await;
        Status::OK
    })
    .unwrap();
    let err = eng.register("dup", ok).unwrap_err();
    assert_eq!(err, EngineError::HandlerExists("dup".into()));
    assert_eq!(err.to_string(), "Can't overwrite handler for command dup");

    let job = eng.job("dup", Vec::<String>::new());
    let out = job.stdout().add_buffer();
    job.run().await.unwrap();
    assert_eq!(out.text(), "first");
}

#[tokio::test]
async fn the_catchall_serves_unknown_non_empty_names() {
    let eng = Engine::new();
    eng.register("known", |job: Job| async move {
        let _ = job.print("specific").await;
        Status::OK
    })
    .unwrap();
    eng.register_catchall(|job: Job| async move {
        let _ = job.print(format!("catchall:{}", job.name())).await;
        Status::OK
    });

    let job = eng.job("whatever", ["x"]);
    let out = job.stdout().add_buffer();
    job.run().await.unwrap();
    assert_eq!(out.text(), "catchall:whatever");

    let job = eng.job("known", Vec::<String>::new());
    let out = job.stdout().add_buffer();
    job.run().await.unwrap();
    assert_eq!(out.text(), "specific", "a registration shadows the catch-all");

    let job = eng.job("", Vec::<String>::new());
    let err = job.run().await.unwrap_err();
    assert_eq!(job.status(), Status::NOT_FOUND, "the empty name is never served");
    assert_eq!(err.message, ": command not found");
}

#[tokio::test]
async fn commands_lists_every_name_sorted() {
    let eng = Engine::new();
    eng.register("zeta", ok).unwrap();
    eng.register("Alpha", ok).unwrap();
    eng.register("beta", ok).unwrap();
    eng.register_catchall(ok);
    let job = eng.job("commands", Vec::<String>::new());
    let out = job.stdout().add_buffer();
    job.run().await.unwrap();
    assert_eq!(out.text(), "Alpha\nbeta\ncommands\nzeta\n");
}

#[tokio::test]
async fn global_handlers_reach_engines_created_afterwards() {
    let before = Engine::new();
    register_global("global_rule_test_job", ok).unwrap();
    let err = register_global("global_rule_test_job", ok).unwrap_err();
    assert_eq!(err.to_string(), "Can't overwrite global handler for command global_rule_test_job");
    let after = Engine::new();
    assert!(!before.has_handler("global_rule_test_job"));
    assert!(after.has_handler("global_rule_test_job"));
}

#[tokio::test]
async fn job_log_lines_have_the_original_format() {
    let (eng, log) = engine_with_log();
    eng.register("fail", fail).unwrap();
    eng.register("ok", ok).unwrap();
    let id8 = eng.short_id().to_string();
    assert_eq!(id8.len(), 8);
    assert_eq!(eng.id().len(), 64);
    assert!(eng.id().chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));

    let _ = eng.job("fail", ["a", "b"]).run().await;
    eng.job("ok", Vec::<String>::new()).run().await.unwrap();
    let _ = eng.job("nosuch", ["x"]).run().await;
    let _ = eng.job("", Vec::<String>::new()).run().await;

    let text = log.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            format!("[{id8}] +job fail(a, b)"),
            "it went wrong".to_string(),
            format!("[{id8}] -job fail(a, b) = ERR (1)"),
            format!("[{id8}] +job ok()"),
            format!("[{id8}] -job ok() = OK (0)"),
            format!("[{id8}] +job nosuch(x)"),
            "nosuch: command not found".to_string(),
            format!("[{id8}] -job nosuch(x)"),
            format!("[{id8}] +job ()"),
            ": command not found".to_string(),
            format!("[{id8}] -job ()"),
        ]
    );
}

#[tokio::test]
async fn nothing_is_logged_when_logging_is_off() {
    let (eng, log) = engine_with_log();
    eng.set_logging(false);
    eng.register("fail", fail).unwrap();
    let _ = eng.job("fail", Vec::<String>::new()).run().await;
    eng.logf("hello");
    assert_eq!(log.text(), "");
}

#[tokio::test]
async fn engine_logf_prefixes_and_strips_newlines() {
    let (eng, log) = engine_with_log();
    eng.logf("hello\n\n");
    assert_eq!(log.text(), format!("[{}] hello\n", eng.short_id()));
}

#[tokio::test]
async fn job_logf_names_the_job() {
    let (eng, log) = engine_with_log();
    eng.register("noisy", |job: Job| async move {
        job.logf("creating new bridge for docker0").await;
        Status::OK
    })
    .unwrap();
    eng.job("noisy", ["a"]).run().await.unwrap();
    assert!(
        log.text().contains(&format!("[{}.noisy(a)] creating new bridge for docker0\n", eng.short_id())),
        "{}",
        log.text()
    );
}

#[tokio::test]
async fn an_unknown_job_fails_with_127() {
    let eng = Engine::new();
    let job = eng.job("nosuch", Vec::<String>::new());
    let err = job.run().await.unwrap_err();
    assert_eq!(job.status(), Status::NOT_FOUND);
    assert_eq!(job.status().code(), 127);
    assert_eq!(err.message, "nosuch: command not found");
    assert_eq!(job.status_string(), "", "no end time for command not found");
}

#[tokio::test]
async fn a_job_runs_once() {
    let eng = Engine::new();
    eng.register("once", ok).unwrap();
    let job = eng.job("once", Vec::<String>::new());
    job.run().await.unwrap();
    let err = job.run().await.unwrap_err();
    assert_eq!(err.message, "once: job has already completed");

    // A job that found no handler never ended, so it may be run again.
    let missing = eng.job("missing", Vec::<String>::new());
    assert_eq!(missing.run().await.unwrap_err().message, "missing: command not found");
    assert_eq!(missing.run().await.unwrap_err().message, "missing: command not found");
}

#[tokio::test]
async fn the_error_is_the_last_stderr_line() {
    let eng = Engine::new();
    eng.register("multi", |job: Job| async move { job.errorf("line1\nline2").await }).unwrap();
    eng.register("silent", |_: Job| async move { Status(3) }).unwrap();
    eng.register("warn_then_ok", |job: Job| async move {
        let _ = job.stderr().write_str("just a warning\n").await;
        Status::OK
    })
    .unwrap();

    let job = eng.job("multi", Vec::<String>::new());
    let err = job.run().await.unwrap_err();
    assert_eq!(err.message, "line2");
    assert_eq!(err.status, Status::ERR);

    let job = eng.job("silent", Vec::<String>::new());
    let err = job.run().await.unwrap_err();
    assert_eq!(err.message, "");
    assert_eq!(err.status, Status(3));
    assert_eq!(job.status_string(), " = ERR (3)");

    eng.job("warn_then_ok", Vec::<String>::new()).run().await.unwrap();
}

#[tokio::test]
async fn a_handler_can_state_the_kind_of_failure() {
    let eng = Engine::new();
    eng.register("lookup", |job: Job| async move {
        let name = job.args().first().cloned().unwrap_or_default();
        job.fail(ErrorKind::NotFound, format!("No such container: {name}")).await
    })
    .unwrap();
    let err = eng.job("lookup", ["web"]).run().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.to_string(), "No such container: web");
}

#[tokio::test]
async fn a_panicking_handler_fails_its_job_only() {
    let eng = Engine::new();
    eng.register("boom", |_: Job| async move { panic!("kaboom") }).unwrap();
    let err = eng.job("boom", Vec::<String>::new()).run().await.unwrap_err();
    assert_eq!(err.message, "boom: internal error: kaboom");
    eng.register("fine", ok).unwrap();
    eng.job("fine", Vec::<String>::new()).run().await.unwrap();
}

#[tokio::test]
async fn streams_are_closed_when_the_job_ends() {
    let eng = Engine::new();
    eng.register("echo", |job: Job| async move {
        let input = job.stdin().read_to_end().await.unwrap();
        let _ = job.print(input).await;
        Status::OK
    })
    .unwrap();
    let job = eng.job("echo", Vec::<String>::new());
    job.stdin().add(&b"ping"[..]).unwrap();
    let mut rx = job.stdout().add_channel(4);
    job.run().await.unwrap();
    assert_eq!(rx.recv().await.unwrap(), &b"ping"[..]);
    assert!(rx.recv().await.is_none(), "stdout closed at the end of the job");
    assert!(job.stdout().write(b"late").await.is_err(), "writes after the end fail");
    assert!(job.stdin().read_to_end().await.unwrap().is_empty(), "stdin closed");
}

#[tokio::test]
async fn results_are_read_back_through_decoders() {
    let eng = Engine::new();
    eng.register("version", |job: Job| async move {
        let _ = job.print(r#"{"ApiVersion":"1.24","Os":"linux"}"#).await;
        Status::OK
    })
    .unwrap();
    let job = eng.job("version", Vec::<String>::new());
    let env = job.stdout().add_env();
    job.run().await.unwrap();
    assert_eq!(env.get().get("ApiVersion"), "1.24");
}

#[tokio::test]
async fn string_forms() {
    let eng = Engine::new();
    eng.register("fail", fail).unwrap();
    let job = eng.job("fail", ["a", "b"]);
    assert_eq!(job.call_string(), "fail(a, b)");
    assert_eq!(job.to_string(), format!("{}.fail(a, b)", eng.short_id()));
    let _ = job.run().await;
    assert_eq!(job.to_string(), format!("{}.fail(a, b) = ERR (1)", eng.short_id()));
    assert_eq!(eng.job("x", Vec::<String>::new()).call_string(), "x()");
}

#[tokio::test]
async fn env_travels_with_the_job() {
    let eng = Engine::new();
    eng.register("env", |job: Job| async move {
        let line = format!("{}:{}:{}", job.getenv("name"), job.getenv_bool("flag"), job.getenv_int("n"));
        let _ = job.print(line).await;
        Status::OK
    })
    .unwrap();
    let job = eng.job("env", Vec::<String>::new());
    job.setenv("name", "web");
    job.setenv_bool("flag", true);
    job.setenv_int("n", 42);
    let out = job.stdout().add_buffer();
    job.run().await.unwrap();
    assert_eq!(out.text(), "web:true:42");
}

#[tokio::test]
async fn parse_job_splits_env_from_args() {
    let eng = Engine::new();
    let job = eng.parse_job("  create  image=busybox web  debug=1 ").unwrap();
    assert_eq!(job.name(), "create");
    assert_eq!(job.args(), ["web"]);
    assert_eq!(job.getenv("image"), "busybox");
    assert_eq!(job.getenv("debug"), "1");
    let err = eng.parse_job(" a=b ").unwrap_err();
    assert_eq!(err.to_string(), "empty command: ' a=b '");
}

/// Work a handler defers to `replied` runs when the job ends, or, when the
/// caller holds the reply, only once the caller lets go of it.
#[tokio::test]
async fn replied_waits_for_a_held_reply() {
    let eng = Engine::new();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<&'static str>();
    eng.register("deferring", move |job: Job| {
        let tx = tx.clone();
        async move {
            let j = job.clone();
            tokio::spawn(async move {
                j.replied().await;
                let _ = tx.send("after the reply");
            });
            Status::OK
        }
    })
    .unwrap();

    let job = eng.job("deferring", Vec::<String>::new());
    job.run().await.unwrap();
    assert_eq!(rx.recv().await, Some("after the reply"), "not held: replied once the job ended");

    let job = eng.job("deferring", Vec::<String>::new());
    let guard = job.hold_reply();
    job.run().await.unwrap();
    tokio::task::yield_now().await;
    assert!(rx.try_recv().is_err(), "held: nothing before the caller lets go");
    drop(guard);
    assert_eq!(rx.recv().await, Some("after the reply"));
}
