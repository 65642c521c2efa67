import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// A file descriptor its owner opened: closed exactly once, when the owner lets it go. A file
/// whose last write matters is closed with `close(_:)`, which reports the error instead.
public struct OwnedDescriptor: ~Copyable {
    public let raw: Int32

    /// Takes over `raw`, which nobody else closes from now on.
    public init(adopting raw: Int32) { self.raw = raw }

    /// Opens `path` (always close-on-exec).
    public init(opening path: String, _ flags: Int32, mode: mode_t = 0) throws(SystemError) {
        raw = try systemCall("\(path): open") { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    deinit { Glibc.close(raw) }

    /// A new file in `directory` that has no name (O_TMPFILE; where the filesystem lacks it, a
    /// named file unlinked at once): nothing is left behind, even after a crash.
    public init(anonymousFileIn directory: String) throws(SystemError) {
        let fd = linux_open_anonymous(directory)
        guard fd >= 0 else { throw .lastError("\(directory): create a temporary file") }
        raw = fd
    }

    /// Closes now and reports a failure (a delayed write error on NFS, a full disk).
    public consuming func close(_ what: @autoclosure () -> String) throws(SystemError) {
        let fd = raw
        discard self
        // After EINTR the descriptor is gone on Linux: nothing to retry.
        if Glibc.close(fd) != 0 && errno != EINTR { throw .lastError(what()) }
    }

    /// Hands the descriptor to the caller, who closes it from now on.
    public consuming func release() -> Int32 {
        let fd = raw
        discard self
        return fd
    }
}
