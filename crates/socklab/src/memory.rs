//! How this process asks the allocator for memory.
//!
//! glibc's malloc raises its mmap threshold each time a large block is freed (up to 32 MiB
//! on 64-bit). After that, the half-megabyte read buffers of a fast stream come from the
//! heap arenas (one per thread) instead of mappings of their own, and fragment them: the
//! terminal UI under a 1 GiB stream peaked at 311 MiB with the default and at 121 MiB with
//! a fixed threshold (docs/benchmarks.md, "The terminal UI under a 1 GiB stream"). A fixed
//! threshold keeps each large buffer in its own mapping, returned to the system when freed.

/// glibc's default threshold, fixed so that it no longer grows.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;

/// Call once, at start, before any other thread exists.
pub fn keep_large_buffers_mapped() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable of the allocator; it is called before the runtime
    // starts any thread, and its result (0 when refused) leaves the default in place.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}
