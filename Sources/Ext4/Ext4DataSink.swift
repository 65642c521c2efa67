import CShim
#if canImport(Glibc)
import Glibc
#endif

/// Where the ext4 writer puts file data. By default the disk file itself (`DiskFileDataSink`);
/// a disk format built around the filesystem can take it instead (a qcow2 file puts it straight
/// into its clusters, so the bulk of a disk is copied once). Everything else the writer writes
/// in place, into the disk file.
public protocol Ext4DataSink: AnyObject {
    /// Copies `length` bytes at `sourceOffset` of `source` to byte `diskOffset` of the disk.
    func copy(from source: Int32, at sourceOffset: Int64, length: Int64, toDiskOffset diskOffset: Int64, sourceName: String) throws
}

/// File data into the disk file, copied in the kernel (copy_file_range).
final class DiskFileDataSink: Ext4DataSink {
    private let descriptor: Int32

    init(path: String) throws {
        descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Ext4Error.io("\(path): \(String(cString: strerror(errno)))") }
    }

    deinit { close(descriptor) }

    func copy(from source: Int32, at sourceOffset: Int64, length: Int64, toDiskOffset diskOffset: Int64, sourceName: String) throws {
        var copied: Int64 = 0
        while copied < length {
            let n = cz_copy_file_range(source, sourceOffset + copied, descriptor, diskOffset + copied, Int(length - copied))
            if n < 0 {
                if errno == EINTR { continue }
                throw Ext4Error.io("\(sourceName): copying data failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { throw Ext4Error.io("\(sourceName): temporary data ended early") }
            copied += Int64(n)
        }
    }
}
