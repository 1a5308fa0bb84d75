//! The shared budget of one layer scan, and the readers that charge it.
//!
//! Limits are enforced where bytes flow, not after the fact: [`SourceReader`] counts compressed
//! bytes as they arrive, [`OutputReader`] counts every decompressed byte (the layer's tar stream
//! and nested archives alike) and checks size, ratio and wall time on each read. A breach is
//! recorded in the [`Budget`] *and* returned as an `io::Error`, because decoders and the tar
//! reader may rewrap or swallow the error on its way back up: the walker asks the budget first
//! when it classifies a failure.
//!
//! Everything is single-threaded (`Cell`), like the scan itself.

use std::{
    cell::{Cell, RefCell},
    io::{self, Read},
    time::Instant,
};

use crate::{LayerError, Limits, limits::RATIO_CHECK_AFTER_BYTES};

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
    entries: Cell<u64>,
    breach: RefCell<Option<LayerError>>,
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
            entries: Cell::new(0),
            breach: RefCell::new(None),
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

    fn add_output(&self, n: usize, layer_stream: bool) -> Result<(), LayerError> {
        let output = self.output.get().saturating_add(n as u64);
        self.output.set(output);
        if layer_stream {
            self.tar_bytes.set(self.tar_bytes.get().saturating_add(n as u64));
        }
        if output > self.limits.max_layer_bytes {
            return Err(self.trip(LayerError::TooLarge { limit: self.limits.max_layer_bytes }));
        }
        let compressed = self.compressed.get();
        let ratio = u64::from(self.limits.max_compression_ratio);
        if output >= RATIO_CHECK_AFTER_BYTES && output > compressed.saturating_mul(ratio) {
            return Err(self.trip(LayerError::Bomb {
                bytes: output,
                compressed,
                limit: self.limits.max_compression_ratio,
            }));
        }
        self.check_time()
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

/// A decompressed stream: every byte read through it is charged to the budget, which may end the
/// stream with a limit breach.
#[derive(Debug)]
pub(crate) struct OutputReader<'b, R> {
    inner: R,
    budget: &'b Budget,
    /// Whether these bytes are the layer's own tar stream (as opposed to a nested archive).
    layer_stream: bool,
    /// Whether to charge the bytes at all: a nested *plain* tar's bytes were already charged as
    /// the outer file's content, so only its wall time is checked.
    charge: bool,
}

impl<'b, R: Read> OutputReader<'b, R> {
    pub(crate) fn layer(inner: R, budget: &'b Budget) -> Self {
        Self { inner, budget, layer_stream: true, charge: true }
    }

    pub(crate) fn nested(inner: R, budget: &'b Budget, charge: bool) -> Self {
        Self { inner, budget, layer_stream: false, charge }
    }
}

impl<R: Read> Read for OutputReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(b) = self.budget.breach() {
            return Err(io::Error::other(b));
        }
        let n = self.inner.read(buf)?;
        let charged =
            if self.charge { self.budget.add_output(n, self.layer_stream) } else { self.budget.check_time() };
        charged.map_err(io::Error::other)?;
        Ok(n)
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
        assert!(budget.add_output(1 << 20, true).is_ok());
        let err = budget.add_output(RATIO_CHECK_AFTER_BYTES as usize, true).unwrap_err();
        assert!(matches!(err, LayerError::Bomb { limit: 10, .. }), "{err:?}");
        // The breach is remembered for whoever classifies the next error.
        assert_eq!(budget.classify(&io::Error::other("whatever")), err);
    }

    #[test]
    fn size_and_entry_limits_trip() {
        let budget = Budget::new(&Limits { max_entries: 3, ..limits() }, Instant::now());
        budget.add_compressed(usize::MAX / 2);
        assert!(matches!(budget.add_output(65 << 20, true), Err(LayerError::TooLarge { .. })));
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
