#if canImport(Glibc)
import Glibc
#endif

/// Why a bundle could not be written. Cases name the path at fault: the output folder for
/// output problems, the image path (`/etc/passwd`, `/bin/sh`) for problems with an entry.
public enum BundleError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed: what was being done, and errno.
    case system(String, Int32)
    /// The output folder exists and holds files (replace it with `force`).
    case outputNotEmpty(String)
    /// The output path exists and is not a folder (replace it with `force`).
    case outputNotDirectory(String)
    /// The output path cannot name a new folder (`/`, `.`, `..`).
    case invalidOutput(String)
    /// A name in the tree that cannot be one directory entry (`/`, NUL, `.`, `..`, empty).
    case unsafeName(String)
    /// The image's (or `--user`'s) user or group is not in the image's /etc/passwd or /etc/group.
    case unknownUser(String)
    case invalid(String)
    /// Stopped by a signal before the bundle was complete.
    case interrupted(signal: Int32)

    public var description: String {
        switch self {
        case .system(let what, let code): "\(what): \(String(cString: strerror(code)))"
        case .outputNotEmpty(let path): "\(path): exists and is not empty (use --force to replace it)"
        case .outputNotDirectory(let path): "\(path): exists and is not a directory (use --force to replace it)"
        case .invalidOutput(let path): "\(path): not a name for a new directory"
        case .unsafeName(let path): "entry \"\(path)\": not a valid file name"
        case .unknownUser(let reason): reason
        case .invalid(let reason): reason
        case .interrupted(let signal): "interrupted by signal \(signal)"
        }
    }
}

/// Runs one POSIX call: retries on EINTR and turns -1 into `BundleError.system(what, errno)`.
@discardableResult
func posix<T: FixedWidthInteger>(_ what: @autoclosure () -> String, _ call: () -> T) throws(BundleError) -> T {
    while true {
        let result = call()
        if result != -1 { return result }
        let code = errno
        if code == EINTR { continue }
        throw .system(what(), code)
    }
}
