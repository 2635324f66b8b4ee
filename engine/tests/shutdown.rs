//! The shutdown protocol: refuse new jobs at once, wait at most 5 s for
//! running jobs (never for `serveapi`), then run every hook concurrently for
//! at most 10 s. Time is paused, so the timeouts are exact and instant.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use engine::{Engine, Job, Status};
use tokio::sync::oneshot;
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn new_jobs_are_refused_once_shutdown_starts() {
    let eng = Engine::new();
    eng.register("ok", |_: Job| async { Status::OK }).unwrap();
    assert!(!eng.is_shutdown());
    eng.shutdown().await;
    assert!(eng.is_shutdown());
    let err = eng.job("ok", Vec::<String>::new()).run().await.unwrap_err();
    assert_eq!(err.message, "engine is shutdown");
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_running_jobs_up_to_five_seconds() {
    let eng = Engine::new();
    eng.register("sleep", |job: Job| async move {
        let secs = job.getenv_int("secs") as u64;
        tokio::time::sleep(Duration::from_secs(secs)).await;
        Status::OK
    })
    .unwrap();

    // A job that ends after 2 s: shutdown waits exactly that long.
    let short = eng.job("sleep", Vec::<String>::new());
    short.setenv_int("secs", 2);
    let running = tokio::spawn(async move { short.run().await });
    tokio::task::yield_now().await;
    assert_eq!(eng.running_jobs(), 1);
    let start = Instant::now();
    eng.shutdown().await;
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    running.await.unwrap().unwrap();

    // A job that never ends: shutdown gives up after 5 s.
    let eng = Engine::new();
    eng.register("sleep", |_: Job| async move {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Status::OK
    })
    .unwrap();
    let long = eng.job("sleep", Vec::<String>::new());
    tokio::spawn(async move { long.run().await });
    tokio::task::yield_now().await;
    let start = Instant::now();
    eng.shutdown().await;
    assert_eq!(start.elapsed(), Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn serveapi_does_not_hold_shutdown() {
    let eng = Engine::new();
    eng.register("serveapi", |_: Job| async move {
        std::future::pending::<()>().await;
        Status::OK
    })
    .unwrap();
    let serve = eng.job("serveapi", ["unix:///nowhere"]);
    tokio::spawn(async move { serve.run().await });
    tokio::task::yield_now().await;
    assert_eq!(eng.running_jobs(), 0);
    let start = Instant::now();
    eng.shutdown().await;
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn hooks_run_concurrently_after_the_jobs() {
    let eng = Engine::new();
    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..3 {
        let ran = ran.clone();
        eng.on_shutdown(move || async move {
            tokio::time::sleep(Duration::from_secs(4)).await;
            ran.fetch_add(1, Ordering::SeqCst);
        });
    }
    let start = Instant::now();
    eng.shutdown().await;
    assert_eq!(ran.load(Ordering::SeqCst), 3);
    assert_eq!(start.elapsed(), Duration::from_secs(4), "three 4 s hooks in parallel take 4 s");
}

#[tokio::test(start_paused = true)]
async fn hooks_are_abandoned_after_ten_seconds() {
    let eng = Engine::new();
    let (tx, rx) = oneshot::channel::<()>();
    eng.on_shutdown(move || async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        let _ = tx.send(());
    });
    let start = Instant::now();
    eng.shutdown().await;
    assert_eq!(start.elapsed(), Duration::from_secs(10));
    drop(rx);
}

#[tokio::test(start_paused = true)]
async fn a_second_shutdown_returns_at_once() {
    let eng = Engine::new();
    eng.on_shutdown(|| async { tokio::time::sleep(Duration::from_secs(8)).await });
    let first = {
        let eng = eng.clone();
        tokio::spawn(async move { eng.shutdown().await })
    };
    tokio::task::yield_now().await;
    let start = Instant::now();
    eng.shutdown().await;
    assert_eq!(start.elapsed(), Duration::ZERO);
    first.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn shutdown_started_resolves_when_shutdown_begins() {
    let eng = Engine::new();
    let started = eng.shutdown_started();
    let waiter = tokio::spawn(started);
    tokio::task::yield_now().await;
    assert!(!waiter.is_finished());
    eng.shutdown().await;
    waiter.await.unwrap();
    // And at once for a late subscriber.
    eng.shutdown_started().await;
}
