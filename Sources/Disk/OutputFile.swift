import Foundation
import SystemBase
#if canImport(Glibc)
import Glibc
#endif

/// The output under construction: a temporary file beside the target, renamed over it only
/// when everything succeeded. A failed or interrupted run leaves the target as it was.
public final class OutputFile {
    public let target: String
    public let temporaryPath: String
    private var committed = false
    /// Scratch files made beside the output (`scratchFile`), removed with it.
    private var scratch: [String] = []

    public init(target: String) throws {
        self.target = target
        let url = URL(fileURLWithPath: target)
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DiskError.io("\(target): directory \(directory) does not exist")
        }
        if FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory), isDirectory.boolValue {
            throw DiskError.io("\(target): is a directory")
        }
        var template = Array("\(directory)/.\(url.lastPathComponent).oci2disk-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw DiskError.io("\(directory): cannot create a temporary file: \(String(cString: strerror(errno)))") }
        close(fd)
        temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        TemporaryFiles.shared.add(temporaryPath)
    }

    /// A new private file beside the output (mkstemp: exclusive, 0600, an unguessable name),
    /// deleted when the output is committed or discarded, and on Ctrl-C.
    public func scratchFile(_ purpose: String) throws(DiskError) -> String {
        let path = try PrivateTemporary.file(in: directory, prefix: ".\(URL(fileURLWithPath: target).lastPathComponent).\(purpose)")
        TemporaryFiles.shared.add(path)
        scratch.append(path)
        return path
    }

    /// Deletes a scratch file early (it is deleted at the end in any case).
    public func removeScratch(_ path: String) {
        unlink(path)
        TemporaryFiles.shared.remove(path)
        scratch.removeAll { $0 == path }
    }

    deinit { discard() }

    /// The directory the output (and any scratch file) lives in.
    public var directory: String { URL(fileURLWithPath: target).deletingLastPathComponent().path }

    /// Sets the final length; the file stays sparse.
    public func setLength(_ bytes: Int64, path: String? = nil) throws {
        guard truncate(path ?? temporaryPath, off_t(bytes)) == 0 else {
            throw DiskError.io("\(target): cannot size the output to \(bytes) bytes: \(String(cString: strerror(errno)))")
        }
    }

    public func write(_ bytes: [UInt8], at offset: Int64, path: String? = nil) throws {
        let fd = open(path ?? temporaryPath, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DiskError.io("\(path ?? temporaryPath): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
        guard n == bytes.count else { throw DiskError.io("\(target): write failed: \(String(cString: strerror(errno)))") }
    }

    /// Makes the file readable as a normal new file would be and moves it into place.
    public func commit() throws {
        let mask = umask(0)
        umask(mask)
        chmod(temporaryPath, 0o666 & ~mask)
        guard rename(temporaryPath, target) == 0 else {
            throw DiskError.io("\(target): cannot move the finished output into place: \(String(cString: strerror(errno)))")
        }
        committed = true
        TemporaryFiles.shared.remove(temporaryPath)
        for path in scratch { removeScratch(path) }
    }

    public func discard() {
        guard !committed else { return }
        unlink(temporaryPath)
        TemporaryFiles.shared.remove(temporaryPath)
        for path in scratch { removeScratch(path) }
        committed = true
    }
}

/// Temporary outputs to delete if the process is interrupted (Ctrl-C, SIGTERM).
public final class TemporaryFiles: @unchecked Sendable {
    public static let shared = TemporaryFiles()
    private let lock = NSLock()
    private var paths: Set<String> = []
    private var signals: StopSignals?

    public func add(_ path: String) { lock.withLock { _ = paths.insert(path) } }
    public func remove(_ path: String) { lock.withLock { _ = paths.remove(path) } }

    /// Deletes the registered files and exits 128+signal on SIGINT/SIGTERM/SIGHUP.
    public func installSignalHandlers() throws {
        let handlers = try StopSignals { [self] signalNumber in
            // Files first, then (now empty) folders.
            lock.withLock {
                for path in paths { unlink(path) }
                for path in paths { rmdir(path) }
            }
            exit(128 + signalNumber)
        }
        lock.withLock { signals = handlers }
    }

    /// Hands the signals back (default action), e.g. to `run`'s VM, which stops QEMU on them.
    public func removeSignalHandlers() {
        let installed = lock.withLock {
            defer { signals = nil }
            return signals
        }
        installed?.cancel()
    }
}

public enum DiskError: Error, Equatable, Sendable, CustomStringConvertible {
    case io(String)
    case probe(String)
    /// A disk image that is damaged or not what it claims.
    case invalidDisk(path: String, reason: String)
    /// A disk image that names data outside itself (a qcow2 backing or data file).
    case externalReference(path: String, kind: String, name: String)

    public var description: String {
        switch self {
        case .io(let text), .probe(let text): text
        case .invalidDisk(let path, let reason): "\(path): \(reason)"
        case .externalReference(_, let kind, let name):
            // The caller's error line names the disk already.
            "the qcow2 names a \(kind) \"\(name)\": refused, a disk's references are never followed (its content would come from outside the disk)"
        }
    }
}
