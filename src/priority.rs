//! Background priority for encode threads: the app's jobs run at a lower CPU priority (nice
//! 10, as HandBrake's "below normal" default) so the window keeps drawing at full rate while
//! every core is encoding. Threads the encoders start (x264's, the decoder's) inherit it.
//! Linux only (nice is per thread there); elsewhere jobs run at normal priority.

/// How much lower than the app the app's jobs run (Linux nice increment).
pub const JOB_NICE: i32 = 10;

/// The calling thread's kernel id (`gettid`, through the system call: glibc has the wrapper
/// only since 2.30).
#[cfg(target_os = "linux")]
fn thread_id() -> libc::id_t {
    // SAFETY: gettid takes no arguments and cannot fail.
    let tid = unsafe { libc::syscall(libc::SYS_gettid) };
    libc::id_t::try_from(tid).unwrap_or(0)
}

/// Lowers the calling thread's CPU priority by `JOB_NICE` (Linux: nice is per thread, and
/// threads it creates afterwards inherit it). Returns the error when the system refuses;
/// the job then runs at normal priority, which is only slower for the window.
pub fn lower_this_thread() -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let tid = thread_id();
        let now = this_thread_nice()?;
        let target = (now + JOB_NICE).min(19);
        // SAFETY: setpriority takes no pointers; `tid` is this thread's id.
        if unsafe { libc::setpriority(libc::PRIO_PROCESS, tid, target) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// This thread's nice value (Linux; 0 elsewhere).
pub fn this_thread_nice() -> std::io::Result<i32> {
    #[cfg(target_os = "linux")]
    {
        let tid = thread_id();
        // -1 is both a nice value and the error return: errno tells them apart.
        // SAFETY: __errno_location points at this thread's errno; getpriority takes no pointers.
        let nice = unsafe {
            *libc::__errno_location() = 0;
            libc::getpriority(libc::PRIO_PROCESS, tid)
        };
        let error = std::io::Error::last_os_error();
        if nice == -1 && error.raw_os_error().unwrap_or(0) != 0 {
            return Err(error);
        }
        Ok(nice)
    }
    #[cfg(not(target_os = "linux"))]
    {
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn lowers_only_the_calling_thread_and_what_it_starts() {
        let before = this_thread_nice().expect("nice");
        let (mine, child) = std::thread::spawn(|| {
            lower_this_thread().expect("setpriority");
            let child = std::thread::spawn(this_thread_nice)
                .join()
                .expect("child")
                .expect("nice");
            (this_thread_nice().expect("nice"), child)
        })
        .join()
        .expect("thread");
        assert_eq!(mine, (before + JOB_NICE).min(19));
        assert_eq!(child, mine, "threads a job starts inherit its priority");
        assert_eq!(
            this_thread_nice().expect("nice"),
            before,
            "the caller is untouched"
        );
    }
}
