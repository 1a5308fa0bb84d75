//! The one place async meets sync: a blob download feeding a blocking scanner.
//!
//! The walker is a synchronous `Read` consumer that decompresses, untars and matches — CPU
//! work that must not run on the async runtime's threads. The download is an async stream. A
//! bounded channel joins them: the [`pump`] task sends chunks as they arrive and waits when the
//! scanner falls behind (backpressure: at most `capacity` chunks of one layer in memory), and
//! [`ChannelReader`] hands them to the walker on a blocking thread. When the scanner stops
//! early (a limit, the end of the tar), the reader is dropped, the pump's next send fails and
//! the download stops: no bytes are fetched that nobody reads.
//!
//! The census's `scan_layer` stage and `hubcensus scan docker://` stream layers into the same
//! scanner through this bridge (the latter reads on the engine's own scan threads, which need
//! no `spawn_blocking`).

use std::{
    io::{self, Read},
    sync::Arc,
};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use parking_lot::Mutex;
use tokio::sync::mpsc;

/// The scanner's end of the bridge: a blocking `Read` over the chunks the pump sends.
#[derive(Debug)]
pub struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl ChannelReader {
    /// A bridge with room for `capacity` chunks: the sender for [`pump`], the reader for the
    /// blocking scanner.
    pub fn channel(capacity: usize) -> (mpsc::Sender<io::Result<Bytes>>, Self) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (tx, Self { rx, current: Bytes::new() })
    }
}

impl Read for ChannelReader {
    /// Blocks the calling thread until a chunk arrives: call it only off the runtime
    /// (`spawn_blocking`). The end of the stream is `Ok(0)`; a download error is the error.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// How a pump ended.
#[derive(Debug)]
pub enum PumpEnd<E> {
    /// The stream ended; every byte was handed over.
    Complete,
    /// The scanner stopped reading first (it hit a limit or the end of the archive).
    ReaderGone,
    /// The download failed; the scanner was told with an I/O error.
    Failed(E),
}

/// Bytes the pump passed on, readable while it runs (for progress).
#[derive(Debug, Clone, Default)]
pub struct Transferred(Arc<Mutex<u64>>);

impl Transferred {
    /// Bytes passed on so far.
    pub fn get(&self) -> u64 {
        *self.0.lock()
    }

    fn add(&self, n: u64) {
        *self.0.lock() += n;
    }
}

/// Moves `stream` into `tx` chunk by chunk, waiting while the channel is full. Dropping `tx` at
/// the end is the reader's end of file.
pub async fn pump<S, E>(
    mut stream: S,
    tx: mpsc::Sender<io::Result<Bytes>>,
    transferred: &Transferred,
) -> PumpEnd<E>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    while let Some(item) = stream.next().await {
        match item {
            Ok(chunk) => {
                transferred.add(chunk.len() as u64);
                if tx.send(Ok(chunk)).await.is_err() {
                    return PumpEnd::ReaderGone;
                }
            }
            Err(e) => {
                // The scanner sees an I/O error (and records nothing as final: the caller
                // decides from `Failed` whether the job is retried).
                let _ = tx.send(Err(io::Error::other(format!("download failed: {e}")))).await;
                return PumpEnd::Failed(e);
            }
        }
    }
    PumpEnd::Complete
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> Vec<Result<Bytes, String>> {
        parts.iter().map(|p| Ok(Bytes::from_static(p))).collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_reader_sees_every_byte_in_order_with_a_tiny_channel() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let parts: Vec<Result<Bytes, String>> =
            data.chunks(777).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
        let (tx, mut reader) = ChannelReader::channel(2);
        let transferred = Transferred::default();
        let read = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            reader.read_to_end(&mut out).map(|_| out)
        });
        let end = pump(futures_util::stream::iter(parts), tx, &transferred).await;
        assert!(matches!(end, PumpEnd::Complete));
        assert_eq!(read.await.unwrap().unwrap(), data);
        assert_eq!(transferred.get(), 100_000);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_download_error_reaches_the_reader_and_the_caller() {
        let mut parts = chunks(&[b"abc"]);
        parts.push(Err("connection reset".into()));
        let (tx, mut reader) = ChannelReader::channel(4);
        let read = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            reader.read_to_end(&mut out)
        });
        let end = pump(futures_util::stream::iter(parts), tx, &Transferred::default()).await;
        assert!(matches!(end, PumpEnd::Failed(ref e) if e == "connection reset"));
        let err = read.await.unwrap().unwrap_err();
        assert!(err.to_string().contains("connection reset"), "{err}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_reader_that_stops_early_stops_the_download() {
        let parts: Vec<Result<Bytes, String>> = (0..1000).map(|_| Ok(Bytes::from(vec![7u8; 1024]))).collect();
        let (tx, mut reader) = ChannelReader::channel(1);
        let transferred = Transferred::default();
        let read = tokio::task::spawn_blocking(move || {
            let mut buf = [0u8; 10];
            reader.read_exact(&mut buf).map(|()| buf)
        });
        let end = pump(futures_util::stream::iter(parts), tx, &transferred).await;
        assert!(matches!(end, PumpEnd::ReaderGone));
        assert_eq!(read.await.unwrap().unwrap(), [7u8; 10]);
        assert!(transferred.get() < 10 * 1024, "the pump stopped soon after: {}", transferred.get());
    }
}
