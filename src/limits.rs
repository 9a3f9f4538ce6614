//! The process's limit on open files (`ulimit -n`), a local resource: a
//! check before the async runtime starts (tokio's signal set-up panics when
//! it gets no file descriptor), and the one place that tells a failure
//! caused by the limit ("Too many open files", wherever it surfaced: a
//! connect, a file) from the network trouble it would otherwise pass for.

use crate::error::{Error, Kind};

/// File descriptors the runtime takes when it starts (the event queue, its
/// waker, the signal pipe and one more, as measured: with one fewer free,
/// tokio panics).
#[cfg(unix)]
const RUNTIME_NEEDS: usize = 6;

/// Whether the runtime can get the descriptors it needs; else the error
/// to report instead of tokio's panic.
pub fn check_runtime() -> Result<(), Error> {
    #[cfg(unix)]
    {
        let mut held = Vec::with_capacity(RUNTIME_NEEDS / 2);
        for _ in 0..RUNTIME_NEEDS / 2 {
            match std::os::unix::net::UnixStream::pair() {
                Ok(pair) => held.push(pair),
                Err(e) if is_fd_limit(&e) => return Err(too_many_open_files(e.into())),
                // Anything else is the runtime's to report.
                Err(_) => break,
            }
        }
    }
    Ok(())
}

/// `err` as what it is when the open-file limit caused it, else unchanged.
pub fn explain(err: Error) -> Error {
    if err.is(Kind::Interrupted) || err.is(Kind::BrokenPipe) {
        return err;
    }
    let by_cause = err.causes().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(is_fd_limit)
            || says_fd_limit(&cause.to_string())
    });
    if by_cause || says_fd_limit(err.message()) {
        too_many_open_files(Box::new(err))
    } else {
        err
    }
}

fn is_fd_limit(err: &std::io::Error) -> bool {
    // EMFILE (this process) and ENFILE (the whole system).
    matches!(err.raw_os_error(), Some(24 | 23))
}

fn says_fd_limit(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    text.contains("too many open files") || text.contains("os error 24")
}

fn too_many_open_files(cause: crate::error::Cause) -> Error {
    let limit = match open_file_limit() {
        Some(n) => format!(" (the limit is {n})"),
        None => String::new(),
    };
    Error::new(
        Kind::Io,
        format!(
            "too many open files{limit}: this machine's limit on open files for nemo is used up, not a network problem"
        ),
    )
    .with_hint("raise the limit, e.g. `ulimit -n 1024`, and run the command again")
    .with_source(cause)
}

/// The soft limit on open files, when the system says.
fn open_file_limit() -> Option<String> {
    #[cfg(unix)]
    {
        let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        Some(
            limit
                .current
                .map_or_else(|| "unlimited".to_string(), |n| n.to_string()),
        )
    }
    #[cfg(not(unix))]
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_named_wherever_it_surfaced() {
        let io = std::io::Error::from_raw_os_error(24);
        let err = explain(Error::io("cannot open clip.mp4", io));
        assert!(err.message().starts_with("too many open files"), "{err}");
        assert!(!err.hint().unwrap_or_default().contains("connection"));
        let net =
            Error::network("cannot connect to 127.0.0.1:9: Too many open files (os error 24)");
        assert!(explain(net).is(Kind::Io));
        let other = explain(Error::network("cannot connect: connection refused"));
        assert!(other.is(Kind::Network));
    }
}
