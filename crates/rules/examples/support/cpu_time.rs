//! CPU time for the throughput examples (this one's, hubcensus-intel's and hubcensus-layer's
//! two_threads, which include this file by path): figures that hold still on a machine busy
//! with other work.

/// This thread's user + system CPU time in seconds (Linux; 0 elsewhere).
pub(crate) fn cpu_seconds() -> f64 {
    cpu_seconds_in("/proc/thread-self/stat")
}

/// User + system CPU time in seconds from a `stat` file of /proc: `/proc/thread-self/stat`
/// for this thread, `/proc/self/stat` for the whole process (0 when unreadable).
pub(crate) fn cpu_seconds_in(stat: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(stat) else { return 0.0 };
    // After the parenthesised command name come the state (not numeric, skipped) and fields
    // 4..; utime and stime (fields 14 and 15) are the 11th and 12th numbers.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    match (f.get(10), f.get(11)) {
        (Some(u), Some(s)) => (u + s) / 100.0,
        _ => 0.0,
    }
}
