import CExt2fs

/// Hands out blocks in increasing order from the block bitmap, so each file's data is one
/// stretch wherever the filesystem's own metadata allows, and output is reproducible.
struct BlockAllocator {
    private let fs: ext2_filsys
    private var cursor: blk64_t

    init(fs: ext2_filsys) {
        self.fs = fs
        cursor = blk64_t(fs.pointee.super.pointee.s_first_data_block)
    }

    /// Allocates `count` blocks as few stretches as the free space allows.
    mutating func allocate(_ count: Int64) throws(Ext4Error) -> [(start: UInt64, length: UInt64)] {
        var remaining = UInt64(count)
        var stretches: [(start: UInt64, length: UInt64)] = []
        let last = ext2fs_blocks_count(fs.pointee.super) - 1
        var wrapped = false
        while remaining > 0 {
            var start: blk64_t = 0
            if cursor > last || ext2fs_find_first_zero_block_bitmap2(fs.pointee.block_map, cursor, last, &start) != 0 {
                // Blocks libext2fs gave back (or skipped) below the cursor: look once more from the start.
                guard !wrapped else { throw .io("ext4: no space left for \(remaining) more blocks") }
                wrapped = true
                cursor = blk64_t(fs.pointee.super.pointee.s_first_data_block)
                continue
            }
            var stop: blk64_t = 0
            let searchEnd = min(last, start + remaining - 1)
            let length: UInt64
            if ext2fs_find_first_set_block_bitmap2(fs.pointee.block_map, start, searchEnd, &stop) == 0 {
                length = stop - start
            } else {
                length = searchEnd - start + 1
            }
            ext2fs_block_alloc_stats_range(fs, start, blk_t(length), 1)
            stretches.append((start, length))
            remaining -= length
            cursor = start + length
        }
        return stretches
    }
}
