//! The HTTP server loop. Written over hyper's connection builder rather than
//! `axum::serve`, which has no header-read timeout: without one, clients
//! that connect and send nothing (or a head that never ends) keep their file
//! descriptors for as long as they like, and a few hundred of them stop the
//! server from accepting anyone.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// The first wait after a failed accept, doubled on each further failure.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(5);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Time to receive a whole request head; hyper starts the same timer when
    /// a keep-alive connection goes idle, so it also bounds idle connections.
    pub header_timeout: Duration,
    /// How long shutdown waits for requests in progress.
    pub drain_timeout: Duration,
}

/// Serves `router` until `shutdown`, then lets requests in progress finish
/// (up to `drain_timeout`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: CancellationToken,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut backoff = ACCEPT_BACKOFF_MIN;
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(connection) => {
                backoff = ACCEPT_BACKOFF_MIN;
                connection
            }
            // The client gave up before we accepted: nothing to do.
            Err(error) if is_connection_error(&error) => continue,
            // Typically EMFILE/ENFILE (no descriptor left): retrying at once
            // would spin. Back off until connections close and free some.
            Err(error) => {
                tracing::warn!(%error, wait_ms = backoff.as_millis() as u64, "accept failed; backing off");
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                continue;
            }
        };
        // Small answers should not wait for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            router.clone().oneshot(req)
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // Timeouts and resets end connections all the time; not worth a warning.
            if let Err(error) = connection.await {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.drain_timeout) => {
            tracing::warn!("shutting down with requests still in progress");
        }
    }
}

fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
