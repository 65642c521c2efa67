import Disk
import Ext4

/// Lets the ext4 writer put file data straight into the qcow2 being built, so a qcow2 disk's
/// data is copied once, as a raw disk's is. What is written in place (partition table, boot
/// partition, ext4 metadata) goes to a sparse scratch image that is folded in at the end.
final class QCOW2DataSink: Ext4DataSink {
    let writer: QCOW2Writer

    init(_ writer: QCOW2Writer) { self.writer = writer }

    func copy(from source: Int32, at sourceOffset: Int64, length: Int64, toDiskOffset diskOffset: Int64, sourceName: String) throws {
        try writer.copy(from: source, at: sourceOffset, length: length, toGuest: diskOffset, sourceName: sourceName)
    }
}
