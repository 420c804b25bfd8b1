//! Background priority for encode threads: the app's jobs run at a lower CPU priority (nice
//! 10, as HandBrake's "below normal" default) so the window keeps drawing at full rate while
//! every core is encoding. Threads the encoders start (x264's, the decoder's) inherit it.

/// How much lower than the app the app's jobs run (Linux nice increment).
pub const JOB_NICE: i32 = 10;

/// Lowers the calling thread's CPU priority by `JOB_NICE` (Linux: nice is per thread, and
/// threads it creates afterwards inherit it). Returns the error when the system refuses;
/// the job then runs at normal priority, which is only slower for the window.
pub fn lower_this_thread() -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid and setpriority take no pointers; a thread id of this process.
        let tid = unsafe { libc::gettid() };
        // SAFETY: as above.
        let now = unsafe { libc::getpriority(libc::PRIO_PROCESS, tid as libc::id_t) };
        let target = (now + JOB_NICE).min(19);
        // SAFETY: as above.
        if unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, target) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// This thread's nice value (Linux), for tests and diagnostics.
pub fn this_thread_nice() -> i32 {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: no pointers.
        let tid = unsafe { libc::gettid() };
        // SAFETY: no pointers.
        unsafe { libc::getpriority(libc::PRIO_PROCESS, tid as libc::id_t) }
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn lowers_only_the_calling_thread_and_what_it_starts() {
        let before = this_thread_nice();
        let (mine, child) = std::thread::spawn(|| {
            lower_this_thread().expect("setpriority");
            let child = std::thread::spawn(this_thread_nice).join().expect("child");
            (this_thread_nice(), child)
        })
        .join()
        .expect("thread");
        assert_eq!(mine, (before + JOB_NICE).min(19));
        assert_eq!(child, mine, "threads a job starts inherit its priority");
        assert_eq!(this_thread_nice(), before, "the caller is untouched");
    }
}
