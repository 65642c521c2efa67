/// Where file data can go instead of the disk file: a disk format being built around the
/// filesystem (a qcow2 file takes it straight into its clusters, so the bulk of a disk is
/// copied once). Everything else the writer writes in place, into the disk file.
public protocol Ext4DataSink: AnyObject {
    /// Copies `length` bytes at `sourceOffset` of `source` to byte `diskOffset` of the disk.
    func copy(from source: Int32, at sourceOffset: Int64, length: Int64, toDiskOffset diskOffset: Int64, sourceName: String) throws
}
