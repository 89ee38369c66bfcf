//! Accepting connections: at most [`Limits::max_connections`] at once (the others wait in the
//! listen queue, unaccepted, until one ends), each request's head read within
//! [`Limits::header_timeout`] or the connection closed, a kept-alive connection closed after
//! [`IDLE_TIMEOUT`] without a request, and every connection closable from a handler by its kill
//! switch.
//!
//! Users expose the emulator to their team with `--listen`: a client that opens connections
//! and never finishes a request's headers must not hold them forever, and many such clients
//! must not exhaust the process's file descriptors. `axum::serve` sets neither limit, so this
//! is the accept loop, built on hyper's HTTP/1 connection and a semaphore of connection slots.
//!
//! The head's clock is the emulator's own, not hyper's `header_read_timeout`: hyper's also
//! runs while a kept-alive connection waits for its next request, so a client reusing a pooled
//! connection (reqwest keeps them 90 s) would meet a server closing it at the same moment and
//! lose the request. Here a head must arrive within `header_timeout` of the connection's
//! opening or of its first byte; between requests a connection may idle for [`IDLE_TIMEOUT`],
//! longer than clients keep idle connections, so the client is the one that closes them.
//!
//! The kill switch: each connection's stream carries a flag that the handler receives as
//! `ConnectInfo<ConnHandle>`; once set, every read and write on that socket fails, so hyper
//! abandons the connection without sending a byte of the answer (a lost answer, on purpose).

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, oneshot, watch};
use tower::ServiceExt;

/// How long a kept-alive connection may wait for its next request: longer than clients keep
/// idle connections in their pools (reqwest: 90 s), so that they close them first.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// How many connections, and how patient with each.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// A request's head (request line and headers) must arrive within this, from the
    /// connection's opening, or from the first byte of a later request on it.
    pub(crate) header_timeout: Duration,
    /// Connections served at once.
    pub(crate) max_connections: usize,
}

/// The kill switch of the connection a request came on.
#[derive(Clone, Debug)]
pub(crate) struct ConnHandle(Arc<AtomicBool>);

impl ConnHandle {
    /// Every later read and write on the connection fails: it is dropped without an answer.
    pub(crate) fn kill(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Serves `app` on `listener` until `stop` fires; then stops accepting, asks every connection
/// to close once its answer in flight is written, and returns when all have closed (the
/// caller bounds that wait).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    stop: oneshot::Receiver<()>,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (closing, closing_seen) = watch::channel(false);
    let mut stop = pin!(stop);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            _ = &mut stop => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let killed = Arc::new(AtomicBool::new(false));
        let handle = ConnHandle(killed.clone());
        let activity = Arc::new(Activity(Mutex::new(Phase::Head(Instant::now()))));
        let io = TokioIo::new(KillableStream {
            inner: stream,
            killed,
            activity: activity.clone(),
        });
        let (started, answered) = (activity.clone(), activity.clone());
        let service = app
            .clone()
            .map_request(move |mut request: axum::http::Request<Incoming>| {
                started.head_read();
                request.extensions_mut().insert(ConnectInfo(handle.clone()));
                request
            })
            .map_response(move |response| {
                answered.answered();
                response
            });
        let mut closing = closing_seen.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let mut builder = hyper::server::conn::http1::Builder::new();
            // The emulator's own clock (see the module documentation), not hyper's.
            builder.header_read_timeout(None);
            let mut connection =
                pin!(builder.serve_connection(io, TowerToHyperService::new(service)));
            tokio::select! {
                // A failed connection (reset, a head that never came) has nothing to answer.
                _ = connection.as_mut() => return,
                // Dropping the connection closes its socket.
                () = activity.overdue(limits.header_timeout) => return,
                _ = closing.wait_for(|closing| *closing) => {}
            }
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = closing.send(true);
    // Every slot back: every connection has closed.
    let _ = slots
        .acquire_many(limits.max_connections.max(1) as u32)
        .await;
    Ok(())
}

/// Where a connection is between requests, for its timeouts.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Waiting for (the rest of) a request's head since then: the connection opened, or the
    /// first byte of a later request came.
    Head(Instant),
    /// This many requests are with the handler (pipelined ones queue behind the first).
    Serving(usize),
    /// Answered, kept alive, no byte of another request since then.
    Idle(Instant),
}

struct Activity(Mutex<Phase>);

impl Activity {
    fn update(&self, change: impl FnOnce(Phase) -> Phase) {
        let mut phase = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *phase = change(*phase);
    }

    /// Bytes came: on an idle connection, a request's head has begun.
    fn bytes_read(&self) {
        self.update(|phase| match phase {
            Phase::Idle(_) => Phase::Head(Instant::now()),
            other => other,
        });
    }

    fn head_read(&self) {
        self.update(|phase| match phase {
            Phase::Serving(n) => Phase::Serving(n + 1),
            _ => Phase::Serving(1),
        });
    }

    fn answered(&self) {
        self.update(|phase| match phase {
            Phase::Serving(n) if n > 1 => Phase::Serving(n - 1),
            _ => Phase::Idle(Instant::now()),
        });
    }

    /// Completes when the connection has waited too long: for a head, `header_timeout`; idle,
    /// [`IDLE_TIMEOUT`]. Never while a request is with the handler.
    async fn overdue(&self, header_timeout: Duration) {
        let tick = (header_timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
        loop {
            tokio::time::sleep(tick).await;
            let phase = *self.0.lock().unwrap_or_else(|e| e.into_inner());
            match phase {
                Phase::Head(since) if since.elapsed() > header_timeout => return,
                Phase::Idle(since) if since.elapsed() > IDLE_TIMEOUT => return,
                _ => {}
            }
        }
    }
}

struct KillableStream {
    inner: TcpStream,
    killed: Arc<AtomicBool>,
    activity: Arc<Activity>,
}

fn killed_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "connection dropped by the emulator",
    )
}

impl AsyncRead for KillableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.killed.load(Ordering::Acquire) {
            return Poll::Ready(Err(killed_error()));
        }
        let before = buf.filled().len();
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.bytes_read();
        }
        polled
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.killed.load(Ordering::Acquire) {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.killed.load(Ordering::Acquire) {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.killed.load(Ordering::Acquire) {
            return Poll::Ready(Err(killed_error()));
        }
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
