//! The measurement behind docs/decisions/0004: one layer on one thread, or decompression (and
//! the blob's sha256) on a second thread feeding the walker through a channel.
//!
//! ```sh
//! cargo build --release -p hubcensus-layer --example two_threads
//! taskset -c 0   target/release/examples/two_threads LAYER.tar.gz 1   # one thread, one core
//! taskset -c 0   target/release/examples/two_threads LAYER.tar.gz 2   # two threads, one core
//! taskset -c 0,1 target/release/examples/two_threads LAYER.tar.gz 2   # two threads, two cores
//! ```
//!
//! Prints the wall time and this process's CPU time (user + system) for a gzip layer. Both
//! modes hash the compressed bytes and use ISA-L, as `hubcensus scan` does.

#[path = "support/builtin.rs"]
mod builtin;
#[expect(dead_code, reason = "cpu_seconds (this thread) serves the rules and intel examples")]
#[path = "../../rules/examples/support/cpu_time.rs"]
mod cpu_time;

use std::{
    fs::File,
    io::{self, BufReader, Read},
    process::ExitCode,
    sync::mpsc,
    time::Instant,
};

use hubcensus_layer::{Limits, Walker};
use hubcensus_types::{Digest, Subject};
use sha2::{Digest as _, Sha256};

/// Decompressed bytes handed from the decoding thread to the walker per message.
const CHUNK: usize = 256 * 1024;
const BUFFER: usize = 256 * 1024;

/// Hashes what passes through, as the blob reader of `hubcensus scan` does.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// The walker's side of the channel; spent chunks go back to the decoder for reuse.
struct ChannelReader {
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
    spent: mpsc::SyncSender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            let Ok(next) = self.chunks.recv() else { return Ok(0) };
            let old = std::mem::replace(&mut self.current, next?);
            // A full return channel only means the decoder allocates a new chunk.
            let _ = self.spent.try_send(old);
            self.pos = 0;
        }
        let n = out.len().min(self.current.len() - self.pos);
        out[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn open(path: &str) -> io::Result<Hashing<BufReader<File>>> {
    Ok(Hashing { inner: BufReader::with_capacity(BUFFER, File::open(path)?), hash: Sha256::new() })
}

/// Decodes `path` into chunks sent to `chunks` until the stream ends or the walker hangs up.
fn decode(path: &str, chunks: &mpsc::SyncSender<io::Result<Vec<u8>>>, spent: &mpsc::Receiver<Vec<u8>>) {
    let mut decoder = match open(path) {
        Ok(file) => hubcensus_gzip::GzipDecoder::new(BufReader::with_capacity(BUFFER, file)),
        Err(e) => {
            let _ = chunks.send(Err(e));
            return;
        }
    };
    loop {
        let mut buf = spent.try_recv().unwrap_or_default();
        buf.resize(CHUNK, 0);
        let mut filled = 0;
        while filled < buf.len() {
            match decoder.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) => {
                    let _ = chunks.send(Err(e));
                    return;
                }
            }
        }
        buf.truncate(filled);
        if filled == 0 || chunks.send(Ok(buf)).is_err() {
            return;
        }
    }
}

/// The whole process's CPU time: both threads in two-thread mode.
fn cpu_seconds() -> f64 {
    cpu_time::cpu_seconds_in("/proc/self/stat")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(path), Some(mode)) = (args.first(), args.get(1)) else {
        eprintln!("usage: two_threads LAYER.tar.gz 1|2");
        return ExitCode::from(2);
    };
    let (rules, extractor) = match builtin::rules_and_extractor() {
        Ok(parts) => parts,
        Err(code) => return code,
    };
    let walker = Walker::new(&rules, &extractor, Limits::default());
    let subject = Subject::Layer(Digest::sha256_of(path.as_bytes()));
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let scan = if mode == "2" {
        let (chunk_tx, chunk_rx) = mpsc::sync_channel(8);
        let (spent_tx, spent_rx) = mpsc::sync_channel(16);
        std::thread::scope(|s| {
            s.spawn(move || decode(path, &chunk_tx, &spent_rx));
            let reader = ChannelReader { chunks: chunk_rx, spent: spent_tx, current: Vec::new(), pos: 0 };
            walker.scan_layer(reader, subject)
        })
    } else {
        match open(path) {
            Ok(file) => walker.scan_layer(file, subject),
            Err(e) => {
                eprintln!("{path}: {e}");
                return ExitCode::from(2);
            }
        }
    };
    println!(
        "{mode} thread(s): {} findings, {} entries, error {:?}: {:.3} s wall, {:.2} s cpu",
        scan.findings.len(),
        scan.entries,
        scan.error,
        started.elapsed().as_secs_f64(),
        cpu_seconds() - cpu
    );
    if scan.error.is_some() { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
