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
            throw DiskError.noOutputFolder(output: target, folder: directory)
        }
        if FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory), isDirectory.boolValue {
            throw DiskError.outputIsAFolder(target)
        }
        var template = Array("\(directory)/.\(url.lastPathComponent).oci2disk-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw DiskError.system(.lastError("\(directory): cannot create a temporary file")) }
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
            throw DiskError.system(.lastError("\(target): cannot size the output to \(bytes) bytes"))
        }
    }

    public func write(_ bytes: [UInt8], at offset: Int64, path: String? = nil) throws {
        let file = try OwnedDescriptor(opening: path ?? temporaryPath, O_WRONLY)
        try FileIO.writeFully(file.raw, bytes, at: offset, "\(target): write")
        try file.close("\(target): write")
    }

    /// Makes the file readable as a normal new file would be and moves it into place.
    public func commit() throws {
        let mask = umask(0)
        umask(mask)
        chmod(temporaryPath, 0o666 & ~mask)
        guard rename(temporaryPath, target) == 0 else {
            throw DiskError.system(.lastError("\(target): cannot move the finished output into place"))
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
    /// A system call failed (the errno is in it).
    case system(SystemError)
    /// A program oci2disk runs is not installed: which, and the Debian package that has it.
    case toolMissing(tool: String, package: String, neededFor: String)
    /// A program oci2disk ran failed: which, and its first line of errors.
    case toolFailed(tool: String, message: String)
    /// The output's folder does not exist.
    case noOutputFolder(output: String, folder: String)
    /// The output names a folder.
    case outputIsAFolder(String)
    /// A write outside the disk (a bug in the caller, reported instead of corrupting the file).
    case outsideDisk(path: String, offset: Int64, length: Int64, diskBytes: Int64)
    case probe(String)
    /// A writer used after `finish()`, or given more than its disk holds (a caller's bug).
    case misuse(path: String, reason: String)
    /// A disk image that is damaged or not what it claims.
    case invalidDisk(path: String, reason: String)
    /// A disk image that names data outside itself (a qcow2 backing or data file).
    case externalReference(path: String, kind: String, name: String)

    public var description: String {
        switch self {
        case .probe(let text): text
        case .misuse(let path, let reason): "\(path): \(reason)"
        case .system(let error): error.description
        case .toolMissing(let tool, let package, let neededFor): "\(neededFor) needs \(tool): install Debian's \(package)"
        case .toolFailed(let tool, let message): "\(tool) failed: \(message)"
        case .noOutputFolder(let output, let folder): "\(output): directory \(folder) does not exist"
        case .outputIsAFolder(let output): "\(output): is a directory"
        case .outsideDisk(let path, let offset, let length, let diskBytes):
            "\(path): a write of \(length) bytes at \(offset) is outside the \(diskBytes)-byte disk"
        case .invalidDisk(let path, let reason): "\(path): \(reason)"
        case .externalReference(_, let kind, let name):
            // The caller's error line names the disk already.
            "the qcow2 names a \(kind) \"\(name)\": refused, a disk's references are never followed (its content would come from outside the disk)"
        }
    }
}
