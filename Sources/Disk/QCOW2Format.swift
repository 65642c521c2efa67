/// The parts of the qcow2 format (version 3) that oci2disk writes: 64 KiB clusters, 16-bit
/// refcounts, no backing file, no snapshots, no compression, no extensions.
enum QCOW2Format {
    static let clusterBits: UInt32 = 16
    static let clusterSize = 1 << 16
    /// Entries in one L2 table (one cluster of 8-byte entries): 512 MiB of guest space.
    static let l2Entries = clusterSize / 8
    static let refcountsPerBlock = clusterSize / 2
    /// QCOW_OFLAG_COPIED: the cluster's refcount is exactly 1 (always true here).
    static let copied: UInt64 = 1 << 63

    /// The version 3 header (104 bytes) and an end-of-extensions marker, big-endian.
    static func header(virtualSize: UInt64, l1Size: UInt32, l1Offset: UInt64, refcountTableOffset: UInt64, refcountTableClusters: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        func u32(_ v: UInt32) { bytes += withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        func u64(_ v: UInt64) { bytes += withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        u32(0x5146_49FB)  // "QFI\xfb"
        u32(3)  // version
        u64(0); u32(0)  // no backing file
        u32(clusterBits)
        u64(virtualSize)
        u32(0)  // no encryption
        u32(l1Size); u64(l1Offset)
        u64(refcountTableOffset); u32(refcountTableClusters)
        u32(0); u64(0)  // no snapshots
        u64(0); u64(0); u64(0)  // incompatible, compatible, autoclear features
        u32(4)  // refcount_order: 16-bit refcounts
        u32(104)  // header_length
        u32(0); u32(0)  // header extensions: end
        return bytes
    }

    /// Refcount blocks and refcount-table clusters needed to count `clusters` clusters plus
    /// themselves (they follow everything else): iterated to a fixpoint.
    static func refcountLayout(clusters: Int) -> (tableClusters: Int, blocks: Int) {
        var blocks = 0, tableClusters = 0
        while true {
            let total = clusters + tableClusters + blocks
            let neededBlocks = (total + refcountsPerBlock - 1) / refcountsPerBlock
            let neededTable = max(1, (neededBlocks * 8 + clusterSize - 1) / clusterSize)
            if neededBlocks == blocks && neededTable == tableClusters { return (tableClusters, blocks) }
            blocks = neededBlocks
            tableClusters = neededTable
        }
    }
}
