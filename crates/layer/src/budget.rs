//! The shared budget of one layer scan, and the readers that charge it.
//!
//! Limits are enforced where bytes flow, not after the fact: [`SourceReader`] counts compressed
//! bytes as they arrive, [`OutputReader`] counts every decompressed byte (the layer's tar stream
//! and nested archives alike) and checks size, ratio and wall time on each read. A breach is
//! recorded in the [`Budget`] *and* returned as an `io::Error`, because decoders and the tar
//! reader may rewrap or swallow the error on its way back up: the walker asks the budget first
//! when it classifies a failure.
//!
//! Two kinds of breach, by what can be walked past:
//!
//! - A **layer breach** ends the layer: more output than `max_layer_bytes` (zeros included),
//!   the clock, or a layer whose non-zero output outgrows the compression ratio. That output is
//!   the layer's own tar stream plus what nested streams made while they kept to their own
//!   ratio, so a layer of many small bombs still ends as one.
//! - A **file cut** ends one nested stream (a compressed file, a tar.gz, a zip member inside
//!   the layer) whose non-zero output outgrows the ratio against *its own* compressed size. Its
//!   compressed bytes are already in memory and the layer's tar stream can go on past them, so
//!   the walker records the file as skipped ([`crate::SkipReason::Bomb`]) and takes the next
//!   entry; the cut file's output no longer counts towards the layer's ratio.
//!
//! Zero blocks count towards neither ratio (see the `zero` module).
//!
//! Everything is single-threaded (`Cell`), like the scan itself.

use std::{
    cell::{Cell, RefCell},
    io::{self, Read},
    time::Instant,
};

use crate::{LayerError, Limits, SkipReason, limits::RATIO_CHECK_AFTER_BYTES, zero};

/// Counters and limits of one layer scan.
#[derive(Debug)]
pub(crate) struct Budget {
    limits: Limits,
    started: Instant,
    compressed: Cell<u64>,
    /// Every decompressed byte: the layer's tar stream plus nested archives' decompressed output.
    output: Cell<u64>,
    /// The layer's own tar stream only (reported as `LayerScan::bytes`).
    tar_bytes: Cell<u64>,
    /// The non-zero output the layer's ratio judges: its tar stream's, and nested streams' that
    /// were not cut.
    judged: Cell<u64>,
    entries: Cell<u64>,
    breach: RefCell<Option<LayerError>>,
    /// A nested stream cut for breaking its own ratio, until the walker records it.
    cut: RefCell<Option<SkipReason>>,
    source_error: RefCell<Option<String>>,
}

impl Budget {
    pub(crate) fn new(limits: &Limits, started: Instant) -> Self {
        Self {
            limits: limits.clone(),
            started,
            compressed: Cell::new(0),
            output: Cell::new(0),
            tar_bytes: Cell::new(0),
            judged: Cell::new(0),
            entries: Cell::new(0),
            breach: RefCell::new(None),
            cut: RefCell::new(None),
            source_error: RefCell::new(None),
        }
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    pub(crate) fn compressed(&self) -> u64 {
        self.compressed.get()
    }

    pub(crate) fn tar_bytes(&self) -> u64 {
        self.tar_bytes.get()
    }

    pub(crate) fn entries(&self) -> u64 {
        self.entries.get()
    }

    /// The limit breach recorded so far, if any.
    pub(crate) fn breach(&self) -> Option<LayerError> {
        self.breach.borrow().clone()
    }

    /// Records a breach (the first one wins) and returns it.
    pub(crate) fn trip(&self, e: LayerError) -> LayerError {
        let mut slot = self.breach.borrow_mut();
        slot.get_or_insert(e).clone()
    }

    /// The file cut a nested stream recorded since the last call, if any (and forgets it).
    pub(crate) fn take_cut(&self) -> Option<SkipReason> {
        self.cut.borrow_mut().take()
    }

    /// Turns a failure seen anywhere in the stack into the error to record: a recorded limit
    /// breach first, then a failure of the source, then the stream's own error.
    pub(crate) fn classify(&self, e: &io::Error) -> LayerError {
        if let Some(b) = self.breach() {
            return b;
        }
        if let Some(msg) = self.source_error.borrow().as_ref() {
            return LayerError::Io(msg.clone());
        }
        LayerError::from_stream(e)
    }

    /// Time left before the layer's wall-clock limit (zero once it has passed).
    pub(crate) fn time_left(&self) -> std::time::Duration {
        self.limits.layer_timeout().saturating_sub(self.started.elapsed())
    }

    pub(crate) fn check_time(&self) -> Result<(), LayerError> {
        if self.started.elapsed() > self.limits.layer_timeout() {
            return Err(self.trip(LayerError::Timeout { limit_secs: self.limits.layer_timeout_secs }));
        }
        Ok(())
    }

    /// Counts one entry (a tar entry or a nested archive member).
    pub(crate) fn add_entry(&self) -> Result<(), LayerError> {
        self.reserve_entries(1)
    }

    /// Counts `n` entries at once: used before a zip's central directory is indexed, so a zip
    /// claiming millions of members fails before the zip reader allocates for them.
    pub(crate) fn reserve_entries(&self, n: u64) -> Result<(), LayerError> {
        let total = self.entries.get().saturating_add(n);
        if total > self.limits.max_entries {
            return Err(self.trip(LayerError::TooManyEntries { limit: self.limits.max_entries }));
        }
        self.entries.set(total);
        Ok(())
    }

    /// Undoes part of a reservation made by [`Budget::reserve_entries`].
    pub(crate) fn release_entries(&self, n: u64) {
        self.entries.set(self.entries.get().saturating_sub(n));
    }

    fn add_compressed(&self, n: usize) {
        self.compressed.set(self.compressed.get().saturating_add(n as u64));
    }

    /// Whether `non_zero` bytes of output from `compressed` bytes break the ratio.
    fn over_ratio(&self, non_zero: u64, compressed: u64) -> bool {
        let ratio = u64::from(self.limits.max_compression_ratio);
        non_zero >= RATIO_CHECK_AFTER_BYTES && non_zero > compressed.saturating_mul(ratio)
    }

    /// Charges `n` decompressed bytes, `zero` of them in zero blocks: the size cap counts them
    /// all, the layer's ratio only the others. The ratio is judged on the layer's own stream;
    /// a nested stream's bytes are judged there once the stream is done with (the walk reads
    /// the layer's stream again), unless [`Budget::cut_file`] takes them back.
    fn add_output(&self, n: usize, zero: usize, layer_stream: bool) -> Result<(), LayerError> {
        let output = self.output.get().saturating_add(n as u64);
        self.output.set(output);
        if output > self.limits.max_layer_bytes {
            return Err(self.trip(LayerError::TooLarge { limit: self.limits.max_layer_bytes }));
        }
        let judged = self.judged.get().saturating_add((n - zero) as u64);
        self.judged.set(judged);
        if layer_stream {
            self.tar_bytes.set(self.tar_bytes.get().saturating_add(n as u64));
            let compressed = self.compressed.get();
            if self.over_ratio(judged, compressed) {
                return Err(self.trip(LayerError::Bomb {
                    bytes: judged,
                    compressed,
                    limit: self.limits.max_compression_ratio,
                }));
            }
        }
        self.check_time()
    }

    /// Records that a nested stream was cut for `reason`, taking its `non_zero` bytes back from
    /// the layer's ratio; returns the error that ends the stream.
    fn cut_file(&self, reason: SkipReason, non_zero: u64) -> io::Error {
        self.judged.set(self.judged.get().saturating_sub(non_zero));
        let e = io::Error::other(reason.to_string());
        *self.cut.borrow_mut() = Some(reason);
        e
    }
}

/// The layer's byte source (a blob download, a file): counts compressed bytes, checks the clock
/// and remembers its own failures so they are reported as [`LayerError::Io`], not as corruption.
#[derive(Debug)]
pub(crate) struct SourceReader<'b, R> {
    inner: R,
    budget: &'b Budget,
}

impl<'b, R: Read> SourceReader<'b, R> {
    pub(crate) fn new(inner: R, budget: &'b Budget) -> Self {
        Self { inner, budget }
    }
}

impl<R: Read> Read for SourceReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.budget.check_time().map_err(io::Error::other)?;
        match self.inner.read(buf) {
            Ok(n) => {
                self.budget.add_compressed(n);
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                self.budget.source_error.borrow_mut().get_or_insert_with(|| e.to_string());
                Err(e)
            }
        }
    }
}

/// How an [`OutputReader`] charges what it reads.
#[derive(Debug, Clone, Copy)]
enum Charge {
    /// The layer's own tar stream: the size cap and the layer's ratio.
    Layer,
    /// A nested decompressed stream: the size cap, and a ratio of its own against the
    /// `compressed` bytes it is decompressed from.
    Stream {
        compressed: u64,
        /// Its non-zero output so far.
        non_zero: u64,
        /// Whether it was cut already.
        cut: bool,
    },
    /// A nested *plain* tar, whose bytes were already charged as the outer file's content:
    /// only the clock is checked.
    Clock,
}

/// A decompressed stream: every byte read through it is charged to the budget, which may end the
/// stream with a limit breach (the layer's) or a cut (this stream's).
#[derive(Debug)]
pub(crate) struct OutputReader<'b, R> {
    inner: R,
    budget: &'b Budget,
    charge: Charge,
}

impl<'b, R: Read> OutputReader<'b, R> {
    pub(crate) fn layer(inner: R, budget: &'b Budget) -> Self {
        Self { inner, budget, charge: Charge::Layer }
    }

    /// A stream decompressed from `compressed` bytes held in memory (a compressed file, a zip
    /// member), judged against them.
    pub(crate) fn nested(inner: R, budget: &'b Budget, compressed: u64) -> Self {
        Self { inner, budget, charge: Charge::Stream { compressed, non_zero: 0, cut: false } }
    }

    /// A nested plain tar read from memory: its bytes were charged as the outer file's.
    pub(crate) fn uncharged(inner: R, budget: &'b Budget) -> Self {
        Self { inner, budget, charge: Charge::Clock }
    }
}

impl<R: Read> Read for OutputReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(b) = self.budget.breach() {
            return Err(io::Error::other(b));
        }
        let budget = self.budget;
        let charged = match &mut self.charge {
            Charge::Clock => {
                let n = self.inner.read(buf)?;
                budget.check_time().map(|()| n)
            }
            Charge::Layer => {
                let n = self.inner.read(buf)?;
                budget.add_output(n, zero::zero_bytes(&buf[..n]), true).map(|()| n)
            }
            Charge::Stream { cut: true, .. } => {
                return Err(io::Error::other("this stream was cut"));
            }
            Charge::Stream { compressed, non_zero, cut } => {
                let n = self.inner.read(buf)?;
                let zero = zero::zero_bytes(&buf[..n]);
                budget.add_output(n, zero, false).map_err(io::Error::other)?;
                *non_zero = non_zero.saturating_add((n - zero) as u64);
                if budget.over_ratio(*non_zero, *compressed) {
                    *cut = true;
                    let limit = budget.limits.max_compression_ratio;
                    let reason = SkipReason::Bomb { bytes: *non_zero, compressed: *compressed, limit };
                    return Err(budget.cut_file(reason, *non_zero));
                }
                Ok(n)
            }
        };
        charged.map_err(io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits { max_layer_bytes: 64 << 20, max_compression_ratio: 10, ..Limits::default() }
    }

    #[test]
    fn ratio_is_judged_only_after_enough_output() {
        let budget = Budget::new(&limits(), Instant::now());
        budget.add_compressed(1000);
        // 1 MiB from 1000 bytes is a ratio of 1000, but too early to judge.
        assert!(budget.add_output(1 << 20, 0, true).is_ok());
        let err = budget.add_output(RATIO_CHECK_AFTER_BYTES as usize, 0, true).unwrap_err();
        assert!(matches!(err, LayerError::Bomb { limit: 10, .. }), "{err:?}");
        // The breach is remembered for whoever classifies the next error.
        assert_eq!(budget.classify(&io::Error::other("whatever")), err);
    }

    #[test]
    fn zeros_count_towards_the_size_cap_but_not_the_ratio() {
        let budget = Budget::new(&limits(), Instant::now());
        budget.add_compressed(1000);
        assert!(budget.add_output(60 << 20, 60 << 20, true).is_ok(), "60 MiB of zeros from 1000 bytes");
        assert!(budget.add_output(1 << 20, 1 << 20, true).is_ok());
        assert_eq!(budget.add_output(4 << 20, 4 << 20, true), Err(LayerError::TooLarge { limit: 64 << 20 }));
    }

    fn read_all(r: &mut impl Read) -> io::Result<u64> {
        io::copy(r, &mut io::sink())
    }

    #[test]
    fn a_nested_stream_past_its_own_ratio_is_cut_and_the_layer_goes_on() {
        let budget = Budget::new(&limits(), Instant::now());
        budget.add_compressed(10_000);
        let bomb = io::repeat(b'a').take(40 << 20);
        let err = read_all(&mut OutputReader::nested(bomb, &budget, 1000)).unwrap_err();
        assert!(err.to_string().contains("decompression bomb"), "{err}");
        let cut = budget.take_cut();
        assert!(
            matches!(cut, Some(SkipReason::Bomb { compressed: 1000, limit: 10, bytes }) if bytes >= RATIO_CHECK_AFTER_BYTES),
            "{cut:?}"
        );
        assert_eq!((budget.take_cut(), budget.breach()), (None, None), "taken once; the layer is fine");
        // The cut stream's output no longer weighs on the layer's ratio (10,000 × 10 bytes).
        assert!(budget.add_output(1 << 10, 0, true).is_ok());
        // Zeros from a tiny stream are no bomb.
        let zeros = io::repeat(0).take(40 << 20);
        assert_eq!(read_all(&mut OutputReader::nested(zeros, &budget, 10)).unwrap(), 40 << 20);
        assert_eq!(budget.take_cut(), None);
    }

    #[test]
    fn nested_streams_within_their_ratio_still_count_for_the_layer() {
        let budget = Budget::new(&limits(), Instant::now());
        budget.add_compressed(1000);
        // 20 MiB from 10 MiB is fine for the file, not for a layer of 1000 compressed bytes:
        // many small files that decompress far are one bomb.
        let text = io::repeat(b'a').take(20 << 20);
        assert!(read_all(&mut OutputReader::nested(text, &budget, 10 << 20)).is_ok());
        assert!(matches!(budget.add_output(0, 0, true), Err(LayerError::Bomb { limit: 10, .. })));
    }

    #[test]
    fn size_and_entry_limits_trip() {
        let budget = Budget::new(&Limits { max_entries: 3, ..limits() }, Instant::now());
        budget.add_compressed(usize::MAX / 2);
        assert!(matches!(budget.add_output(65 << 20, 0, true), Err(LayerError::TooLarge { .. })));
        let budget = Budget::new(&Limits { max_entries: 3, ..limits() }, Instant::now());
        assert!(budget.reserve_entries(3).is_ok());
        assert_eq!(budget.add_entry(), Err(LayerError::TooManyEntries { limit: 3 }));
    }

    #[test]
    fn source_failures_are_io_not_corruption() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::ConnectionReset, "connection reset"))
            }
        }
        let budget = Budget::new(&limits(), Instant::now());
        let err = SourceReader::new(Failing, &budget).read(&mut [0; 4]).unwrap_err();
        assert_eq!(budget.classify(&err), LayerError::Io("connection reset".into()));
    }

    #[test]
    fn the_clock_is_checked_inside_reads() {
        let budget = Budget::new(&Limits { layer_timeout_secs: 0, ..limits() }, Instant::now());
        std::thread::sleep(std::time::Duration::from_millis(5));
        let mut r = OutputReader::layer(&[1u8, 2, 3][..], &budget);
        let err = r.read(&mut [0; 3]).unwrap_err();
        assert_eq!(budget.classify(&err), LayerError::Timeout { limit_secs: 0 });
    }
}
