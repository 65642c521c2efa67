/// Hands out blocks in increasing order from the block bitmap, so each file's data is one
/// stretch wherever the filesystem's own metadata allows, and output is reproducible.
struct BlockAllocator {
    private let filesystem: Ext2Filesystem
    private var cursor: UInt64

    init(filesystem: Ext2Filesystem) {
        self.filesystem = filesystem
        cursor = filesystem.firstDataBlock
    }

    /// Allocates `count` blocks as few stretches as the free space allows.
    mutating func allocate(_ count: Int64) throws(Ext4Error) -> [(start: UInt64, length: UInt64)] {
        var remaining = UInt64(count)
        var stretches: [(start: UInt64, length: UInt64)] = []
        let last = filesystem.blockCount - 1
        var wrapped = false
        while remaining > 0 {
            guard cursor <= last, let start = filesystem.firstFreeBlock(in: cursor...last) else {
                // Blocks libext2fs gave back (or skipped) below the cursor: look once more from the start.
                guard !wrapped else { throw .noSpace(blocksMissing: remaining) }
                wrapped = true
                cursor = filesystem.firstDataBlock
                continue
            }
            let searchEnd = min(last, start + remaining - 1)
            let length = filesystem.firstUsedBlock(in: start...searchEnd).map { $0 - start } ?? searchEnd - start + 1
            filesystem.markBlocksInUse(from: start, count: length)
            stretches.append((start, length))
            remaining -= length
            cursor = start + length
        }
        return stretches
    }
}
