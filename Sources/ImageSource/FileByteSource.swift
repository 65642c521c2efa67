import Archive
import SystemBase
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file through a descriptor it owns.
public final class FileByteSource: ByteSource {
    private var descriptor: Int32
    public let path: String

    public init(path: String) throws(SourceError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw code == ENOENT ? .notFound(path) : .io(path: path, reason: String(cString: strerror(code)))
        }
        self.descriptor = fd
        self.path = path
    }

    deinit { close(descriptor) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        do { return try FileIO.read(descriptor, into: buffer, path) }
        catch { throw SourceError.io(path: path, reason: SystemError.message(error.code)) }
    }

    public func skip(_ count: Int64) throws -> Int64 {
        let here = lseek(descriptor, 0, SEEK_CUR)
        let size = lseek(descriptor, 0, SEEK_END)
        guard here >= 0, size >= 0 else { return 0 }
        let step = min(count, Int64(size - here))
        lseek(descriptor, here + off_t(step), SEEK_SET)
        return step
    }
}
