import SystemBase
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file through a descriptor it owns.
public final class FileByteSource: ByteSource {
    private let file: OwnedDescriptor
    public let path: String

    /// A missing file is `SystemError.call(_, errno: ENOENT)`, for callers that treat it apart.
    public init(path: String) throws(SystemError) {
        file = try OwnedDescriptor(opening: path, O_RDONLY)
        self.path = path
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try FileIO.read(file.raw, into: buffer, "\(path): read")
    }

    public func skip(_ count: Int64) throws -> Int64 {
        let descriptor = file.raw
        let here = lseek(descriptor, 0, SEEK_CUR)
        let size = lseek(descriptor, 0, SEEK_END)
        guard here >= 0, size >= 0 else { return 0 }
        let step = min(count, Int64(size - here))
        lseek(descriptor, here + off_t(step), SEEK_SET)
        return step
    }
}
