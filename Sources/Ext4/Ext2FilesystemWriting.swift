import Archive
import CExt2fs
import CExt2fsShim

/// What the ext4 writer asks of libext2fs, as operations of the handle's owner: the C pointer,
/// the superblock and every `ext2fs_*` call stay here, and each return code is checked.
extension Ext2Filesystem {
    private var handle: ext2_filsys { fs! }  // set until `close`, which the writer calls last
    private var superblock: UnsafeMutablePointer<ext2_super_block> { handle.pointee.super }

    // MARK: - The skeleton (what mke2fs does before any file exists)

    /// Identity, hashing, options and times of the new filesystem.
    func configure(uuid: [UInt8], hashSeed: [UInt8], label: String, timestamp: Int64) {
        let sb = superblock
        withUnsafeMutableBytes(of: &sb.pointee.s_uuid) { $0.copyBytes(from: uuid.prefix(16)) }
        withUnsafeMutableBytes(of: &sb.pointee.s_hash_seed) { $0.copyBytes(from: hashSeed.prefix(16)) }
        withUnsafeMutableBytes(of: &sb.pointee.s_volume_name) { area in
            area.initializeMemory(as: UInt8.self, repeating: 0)
            area.copyBytes(from: Array(label.utf8.prefix(16)))
        }
        sb.pointee.s_def_hash_version = UInt8(EXT2_HASH_HALF_MD4)
        // Fixed, not the host's char signedness, so every host writes the same hashes.
        sb.pointee.s_flags |= UInt32(EXT2_FLAGS_UNSIGNED_HASH)
        sb.pointee.s_default_mount_opts = UInt32(EXT2_DEFM_XATTR_USER | EXT2_DEFM_ACL)
        sb.pointee.s_max_mnt_count = -1  // no forced checks
        sb.pointee.s_checksum_type = UInt8(EXT2_CRC32C_CHKSUM)
        sb.pointee.s_r_blocks_count = 0
        sb.pointee.s_r_blocks_count_hi = 0
        ext2fs_init_csum_seed(handle)
        ext2shim_fs_set_now(handle, timestamp)
        let time = UInt32(truncatingIfNeeded: timestamp)
        sb.pointee.s_mkfs_time = time
        sb.pointee.s_wtime = time
        sb.pointee.s_lastcheck = time
    }

    /// Places the group descriptors, bitmaps and inode tables; marks the inode tables zeroed
    /// (the output is a fresh sparse file, so they already read as zeros).
    func allocateGroupTables() throws(Ext4Error) {
        try Self.check(ext2fs_allocate_tables(handle), "allocate group tables")
        for group in 0..<handle.pointee.group_desc_count {
            ext2fs_bg_flags_set(handle, group, UInt16(EXT2_BG_INODE_ZEROED))
            ext2fs_group_desc_csum_set(handle, group)
        }
    }

    /// A journal of libext2fs' default size for this filesystem, lazily initialised.
    func addJournal() throws(Ext4Error) {
        var journal = ext2fs_journal_params()
        try Self.check(ext2fs_get_journal_params(&journal, handle), "size journal")
        try Self.check(
            ext2fs_add_journal_inode3(handle, &journal, ~0, Int32(EXT2_MKJOURNAL_LAZYINIT | EXT2_MKJOURNAL_NO_MNT_CHECK)),
            "create journal")
    }

    // MARK: - Inodes

    var inodeCapacity: UInt32 { superblock.pointee.s_inodes_count }

    func markInodeInUse(_ number: UInt32, isDirectory: Bool) {
        ext2fs_inode_alloc_stats2(handle, number, 1, isDirectory ? 1 : 0)
    }

    /// Writes a whole large inode (checksummed by libext2fs).
    func writeInode(_ number: UInt32, _ raw: inout ext2_inode_large, _ what: @autoclosure () -> String) throws(Ext4Error) {
        let handle = handle
        let code = withUnsafeMutablePointer(to: &raw) { pointer in
            pointer.withMemoryRebound(to: ext2_inode.self, capacity: 1) { small in
                ext2fs_write_inode_full(handle, number, small, Int32(MemoryLayout<ext2_inode_large>.size))
            }
        }
        try Self.check(code, what())
    }

    /// Sets i_blocks for `blocks` filesystem blocks (in the units the filesystem's flags say).
    func setBlockCount(_ blocks: UInt64, of raw: inout ext2_inode_large) throws(Ext4Error) {
        let handle = handle
        let code = withUnsafeMutablePointer(to: &raw) { pointer in
            pointer.withMemoryRebound(to: ext2_inode.self, capacity: 1) { ext2fs_iblk_set(handle, $0, blk64_t(blocks)) }
        }
        try Self.check(code, "count blocks")
    }

    /// Sets the attributes in the inode (or its xattr block), as ext2fs_xattrs_* lays them out.
    func setXattrs(_ xattrs: [Xattr], of number: UInt32, _ what: String) throws(Ext4Error) {
        var attributes: OpaquePointer?
        try Self.check(ext2fs_xattrs_open(handle, number, &attributes), "open xattrs of \(what)")
        defer { ext2fs_xattrs_close(&attributes) }
        try Self.check(ext2fs_xattrs_read(attributes), "read xattrs of \(what)")
        for xattr in xattrs {
            let code = xattr.value.withUnsafeBytes { value in ext2fs_xattr_set(attributes, xattr.name, value.baseAddress, value.count) }
            try Self.check(code, "set xattr \(xattr.name) of \(what)")
        }
    }

    // MARK: - Blocks

    func writeBlock(_ bytes: [UInt8], at block: UInt64) throws(Ext4Error) {
        let channel = handle.pointee.io
        let code = bytes.withUnsafeBytes { io_channel_write_blk64(channel, block, 1, $0.baseAddress) }
        try Self.check(code, "write block \(block)")
    }

    /// A directory block, with its checksum tail filled in for `inode`.
    func writeDirectoryBlock(_ bytes: inout [UInt8], at block: UInt64, inode: UInt32, _ what: @autoclosure () -> String) throws(Ext4Error) {
        let handle = handle
        let code = bytes.withUnsafeMutableBytes { ext2fs_write_dir_block4(handle, block, $0.baseAddress, 0, inode) }
        try Self.check(code, what())
    }

    /// Fills in an extent tree block's checksum for `inode`.
    func checksumExtentBlock(_ bytes: inout [UInt8], inode: UInt32) throws(Ext4Error) {
        let handle = handle
        let code = bytes.withUnsafeMutableBytes { ext2shim_extent_block_csum_set(handle, inode, $0.baseAddress) }
        try Self.check(code, "checksum extent block")
    }

    /// The directory hash of `name` (half-MD4, unsigned, with the superblock's seed).
    func directoryHash(_ name: [UInt8], seed: [UInt32]) throws(Ext4Error) -> (UInt32, UInt32) {
        var major: ext2_dirhash_t = 0, minor: ext2_dirhash_t = 0
        let code = name.withUnsafeBufferPointer { chars in
            chars.withMemoryRebound(to: CChar.self) { text in
                ext2fs_dirhash2(Int32(EXT2_HASH_HALF_MD4_UNSIGNED), text.baseAddress, Int32(name.count), nil, 0, seed, &major, &minor)
            }
        }
        try Self.check(code, "hash a directory entry")
        return (major, minor)
    }

    /// The superblock's hash seed, as the hash function takes it.
    var hashSeed: [UInt32] { withUnsafeBytes(of: superblock.pointee.s_hash_seed) { Array($0.bindMemory(to: UInt32.self)) } }

    // MARK: - The block bitmap (for BlockAllocator)

    var firstDataBlock: UInt64 { UInt64(superblock.pointee.s_first_data_block) }
    var blockCount: UInt64 { ext2fs_blocks_count(superblock) }

    /// The first free block in `range`, or nil.
    func firstFreeBlock(in range: ClosedRange<UInt64>) -> UInt64? {
        var found: blk64_t = 0
        return ext2fs_find_first_zero_block_bitmap2(handle.pointee.block_map, range.lowerBound, range.upperBound, &found) == 0 ? found : nil
    }

    /// The first block in use in `range`, or nil.
    func firstUsedBlock(in range: ClosedRange<UInt64>) -> UInt64? {
        var found: blk64_t = 0
        return ext2fs_find_first_set_block_bitmap2(handle.pointee.block_map, range.lowerBound, range.upperBound, &found) == 0 ? found : nil
    }

    func markBlocksInUse(from start: UInt64, count: UInt64) {
        ext2fs_block_alloc_stats_range(handle, start, blk_t(count), 1)
    }

    // MARK: - Counts

    /// (inodes in use, blocks in all, blocks free).
    var usage: (inodes: Int, blocks: Int64, freeBlocks: Int64) {
        let sb = superblock
        return (Int(sb.pointee.s_inodes_count - sb.pointee.s_free_inodes_count), Int64(ext2fs_blocks_count(sb)), Int64(ext2fs_free_blocks_count(sb)))
    }
}
