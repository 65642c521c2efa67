import SystemBase
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
    /// A file ended before the bytes it should hold (the spill file, truncated meanwhile).
    case endOfFile(String)
    /// An account file (`/etc/passwd`, `/etc/group`) larger than the limit read into memory.
    case accountFileTooLarge(path: String, bytes: Int64, limit: Int64)
    /// The image's root is not a folder.
    case rootNotDirectory
    /// A folder handed to the file writer (a bug in the caller, reported, not written).
    case unexpectedFolder(String)
    /// The old tree a forced bundle replaced could not be removed (the new one is in place).
    case replacedTreeLeft(output: String, leftover: String, reason: String)
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
        case .endOfFile(let operation): "\(operation): unexpected end of file"
        case .accountFileTooLarge(let path, let bytes, let limit): "/\(path): \(bytes) bytes, too large for an account file (limit \(limit))"
        case .rootNotDirectory: "the image root is not a directory"
        case .unexpectedFolder(let path): "\(path): a folder reached the file writer"
        case .replacedTreeLeft(let output, let leftover, let reason):
            "\(output): written, but the tree it replaced could not be removed from \(leftover): \(reason)"
        case .interrupted(let signal): "interrupted by signal \(signal)"
        }
    }
}

extension BundleError {
    /// A system call's failure as the bundle writer reports it.
    init(_ error: SystemError) {
        switch error {
        case .call(let operation, let code): self = .system(operation, code)
        case .endOfFile(let operation): self = .endOfFile(operation)
        }
    }
}

/// Runs one system call (retrying EINTR) and reports a failure as `BundleError.system`.
@discardableResult
func posix<T: FixedWidthInteger>(_ what: @autoclosure () -> String, _ call: () -> T) throws(BundleError) -> T {
    do { return try systemCall(what(), call) } catch { throw BundleError(error) }
}
