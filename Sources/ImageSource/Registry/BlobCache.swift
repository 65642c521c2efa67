import Archive
import SystemBase
import Foundation
import OCIModels
#if canImport(Glibc)
import Glibc
#endif

/// Downloaded blobs kept between runs, by digest: `DIR/blobs/ALG/HEX`, the layout of an OCI
/// image layout's blob folder. A blob is written to a unique temporary file in its final
/// folder, checked (size and digest), then renamed into place: rename(2) is atomic, so
/// concurrent runs never see a partial file, and when two download the same blob the later
/// rename just replaces identical bytes. A failed or corrupt download is deleted, never cached.
struct BlobCache: Sendable {
    let directory: String

    func path(_ digest: Digest) -> String { directory + "/" + digest.layoutPath }

    /// The cached blob, or nil when it is not there.
    func open(_ digest: Digest) throws(SourceError) -> FileByteSource? {
        do {
            return try FileByteSource.opening(path(digest))
        } catch .notFound {
            return nil
        }
    }

    /// Stores bytes already in memory (a manifest), unless they are there already.
    func store(_ digest: Digest, bytes: [UInt8], what: String) throws {
        if access(path(digest), F_OK) == 0 { return }
        try store(digest, size: Int64(bytes.count), what: what) { pending in
            try bytes.withUnsafeBytes { try pending.write($0) }
        }
    }

    /// Stores a blob `fill` writes into the pending file; throws if it fails or the bytes do
    /// not have the expected size and digest, leaving nothing behind.
    func store(_ digest: Digest, size: Int64?, what: String, fill: (PendingBlob) throws -> Void) throws {
        let final = path(digest)
        let folder = String(final[..<final.lastIndex(of: "/")!])
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw SourceError.io(path: folder, reason: "cannot create the blob cache folder (\((error as NSError).localizedDescription))")
        }
        let pending = try PendingBlob(folder: folder, digest: digest, size: size, what: what)
        do {
            try fill(pending)
            try pending.commit(to: final)
        } catch {
            pending.discard()
            throw error
        }
    }
}

/// A blob being downloaded into the cache: counted and hashed as it is written.
final class PendingBlob: BodySink {
    private var descriptor: Int32
    let path: String
    private let digest: Digest
    private let size: Int64?
    private let what: String
    private var hasher: ContentHasher
    private(set) var count: Int64 = 0
    private var finished = false

    fileprivate init(folder: String, digest: Digest, size: Int64?, what: String) throws(SourceError) {
        var template = Array("\(folder)/.partial-\(digest.hex.prefix(16))-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .io(path: folder, reason: String(cString: strerror(errno))) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        descriptor = fd
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        self.digest = digest
        self.size = size
        self.what = what
        hasher = ContentHasher(digest.algorithm)
    }

    deinit { discard() }

    /// Refuses bytes past the expected size at once, so an endless body stops early.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        count += Int64(bytes.count)
        if let size, count > size { throw SourceError.sizeMismatch(what: what, expected: size, actual: count) }
        hasher.update(bytes)
        do { try FileIO.writeFully(descriptor, bytes, path) } catch { throw SourceError.io(path: path, reason: SystemError.message(error.code)) }
    }

    /// Checks size and digest, makes the file durable and readable, and renames it into place.
    fileprivate func commit(to final: String) throws {
        if let size, count != size { throw SourceError.sizeMismatch(what: what, expected: size, actual: count) }
        let actual = hasher.finalize()
        guard actual == digest else {
            throw SourceError.digestMismatch(what: what, expected: digest.description, actual: actual.description)
        }
        guard fchmod(descriptor, 0o644) == 0, fsync(descriptor) == 0 else {
            throw SourceError.io(path: path, reason: String(cString: strerror(errno)))
        }
        let fd = descriptor
        descriptor = -1
        guard close(fd) == 0 else { throw SourceError.io(path: path, reason: String(cString: strerror(errno))) }
        guard rename(path, final) == 0 else { throw SourceError.io(path: final, reason: String(cString: strerror(errno))) }
        finished = true
    }

    /// Closes and deletes the temporary file (after a failure; a no-op once committed).
    fileprivate func discard() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        if !finished { unlink(path) }
        finished = true
    }
}
