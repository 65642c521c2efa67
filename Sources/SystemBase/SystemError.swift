#if canImport(Glibc)
import Glibc
#endif

/// A system call that failed, with what was being done and the errno it gave; or a read that
/// found the end of a file before the bytes it needed. Callers that can act on a cause match
/// `code` (`ENOENT`, `ENOSPC`, …) instead of parsing a message.
public enum SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `operation` names the call's subject for messages: `"/x/disk.img: write"`.
    case call(_ operation: String, errno: Int32)
    /// Fewer bytes than needed: the file (or pipe) ended.
    case endOfFile(_ operation: String)

    /// The error the last failed call left in `errno`.
    public static func lastError(_ operation: String) -> SystemError { .call(operation, errno: errno) }

    /// The errno, or 0 for an early end of file.
    public var code: Int32 {
        switch self {
        case .call(_, let code): code
        case .endOfFile: 0
        }
    }

    public var description: String {
        switch self {
        case .call(let operation, let code): "\(operation): \(SystemError.message(code))"
        case .endOfFile(let operation): "\(operation): unexpected end of file"
        }
    }

    /// strerror's text for `code`.
    public static func message(_ code: Int32) -> String { String(cString: strerror(code)) }
}

/// Runs one system call: retries on EINTR and turns -1 into `SystemError.call(what, errno)`.
@discardableResult
public func systemCall<T: FixedWidthInteger>(_ what: @autoclosure () -> String, _ call: () -> T) throws(SystemError) -> T {
    while true {
        let result = call()
        if result != -1 { return result }
        let code = errno
        if code == EINTR { continue }
        throw .call(what(), errno: code)
    }
}
