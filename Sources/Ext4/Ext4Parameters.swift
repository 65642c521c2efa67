import CExt2fs

/// The filesystem's fixed choices: 4 KiB blocks, 256-byte inodes, extents, journal,
/// hashed directories, checksums; only features Linux 4.x and e2fsprogs read (no
/// metadata_csum_seed, no orphan_file, no resize_inode).
public struct Ext4Parameters: Sendable {
    public var label: String
    public var uuid: [UInt8]
    public var hashSeed: [UInt8]
    /// Superblock times (mkfs, write, last check).
    public var timestamp: Int64

    public init(label: String = "root", uuid: [UInt8], hashSeed: [UInt8], timestamp: Int64) {
        self.label = label
        self.uuid = uuid
        self.hashSeed = hashSeed
        self.timestamp = timestamp
    }

    public static let blockSize = 4096
    /// Inodes 1–10 are reserved (the root folder is number 2); the first free one, 11, is lost+found.
    public static let reservedInodes = 10
    static let inodeSize: UInt16 = 256
    static let extraInodeSize: UInt16 = 32
    /// mke2fs' default bytes-per-inode for ordinary filesystems.
    static let bytesPerInode: UInt64 = 16384

    /// The superblock template handed to ext2fs_initialize.
    func superblockTemplate() -> ext2_super_block {
        var sb = ext2_super_block()
        sb.s_log_block_size = 2  // 1024 << 2
        sb.s_rev_level = UInt32(EXT2_DYNAMIC_REV)
        sb.s_inode_size = Self.inodeSize
        sb.s_log_groups_per_flex = 4
        sb.s_min_extra_isize = Self.extraInodeSize
        sb.s_want_extra_isize = Self.extraInodeSize
        // The journal feature is added by ext2fs_add_journal_inode3, as mke2fs does.
        sb.s_feature_compat = UInt32(EXT2_FEATURE_COMPAT_EXT_ATTR | EXT2_FEATURE_COMPAT_DIR_INDEX)
        sb.s_feature_incompat = UInt32(
            EXT2_FEATURE_INCOMPAT_FILETYPE | EXT3_FEATURE_INCOMPAT_EXTENTS
                | EXT4_FEATURE_INCOMPAT_64BIT | EXT4_FEATURE_INCOMPAT_FLEX_BG)
        sb.s_feature_ro_compat = UInt32(
            EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER | EXT2_FEATURE_RO_COMPAT_LARGE_FILE
                | EXT4_FEATURE_RO_COMPAT_HUGE_FILE | EXT4_FEATURE_RO_COMPAT_DIR_NLINK
                | EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE | EXT4_FEATURE_RO_COMPAT_METADATA_CSUM)
        return sb
    }

    static func setCounts(_ sb: inout ext2_super_block, blocks: UInt64, inodes: UInt32) {
        sb.s_blocks_count = UInt32(truncatingIfNeeded: blocks)
        sb.s_blocks_count_hi = UInt32(truncatingIfNeeded: blocks >> 32)
        sb.s_inodes_count = inodes
    }

    /// Inodes for a filesystem of `blocks` blocks holding `needed` inodes: mke2fs' ratio,
    /// or more when the image has many small files.
    static func inodeCount(blocks: UInt64, needed: Int) -> UInt32 {
        let byRatio = blocks * UInt64(blockSize) / bytesPerInode
        let byContent = UInt64(needed) + UInt64(needed) / 4 + 64
        return UInt32(min(UInt64(UInt32.max - 1), max(byRatio, byContent)))
    }
}
