import SystemBase
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
    private let disk: OwnedDescriptor
    private let path: String
    private var copier = RangeCopier()

    init(path: String) throws {
        disk = try OwnedDescriptor(opening: path, O_WRONLY)
        self.path = path
    }

    func copy(from source: Int32, at sourceOffset: Int64, length: Int64, toDiskOffset diskOffset: Int64, sourceName: String) throws {
        try copier.copy(from: source, at: sourceOffset, to: disk.raw, at: diskOffset, length: length, "\(sourceName): copying data to \(path)")
    }
}
