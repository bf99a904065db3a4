//! How the process asks glibc's allocator for memory (Linux with glibc only; a no-op
//! elsewhere).
//!
//! Peak RSS is what `analyze` promises to keep flat, and on glibc two habits of its
//! allocator showed in it more than any table of ours (docs/performance.md):
//! - one arena per thread, up to eight per core: memory freed by one thread is kept
//!   for that thread's arena, so the reader threads' and the tracker's leftovers stay
//!   resident beside each other and grow with the run (PG bench logs, peak RSS from
//!   100 MB to 1 GB: +10.7 % with the default, +7.4 % with three arenas for two
//!   reader threads). Fewer is slower: with two, threads that allocate a lot at once
//!   (the tracker on a log of a million connections) waited on each other's arena
//!   lock in most runs, 3.2–3.8 s instead of 1.1–1.3 s;
//! - freed memory stays resident, so the report, built after reading, faulted in
//!   fresh pages on top of the reading's peak instead of reusing it.

/// Caps the allocator's arenas at `n` (at least 3); call before threads start.
pub fn limit_arenas(n: usize) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let n = libc::c_int::try_from(n.max(3)).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only changes a setting; M_ARENA_MAX takes any positive count.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, n);
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = n;
}

/// Returns freed memory to the system, so what is built next reuses the pages.
pub fn release_free() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages; it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}
