import CExt2fs
import Flatten

/// Fills libext2fs' large inode from our metadata: 32-bit ids split in halves, times with
/// nanoseconds and the two extra epoch bits (so 1901–2446 round-trip exactly).
struct InodeRecord {
    var raw = ext2_inode_large()

    init(mode: UInt16, metadata: Metadata, links: Int) {
        raw.i_mode = mode
        raw.i_uid = UInt16(truncatingIfNeeded: metadata.uid)
        raw.osd2.linux2.l_i_uid_high = UInt16(truncatingIfNeeded: metadata.uid >> 16)
        raw.i_gid = UInt16(truncatingIfNeeded: metadata.gid)
        raw.osd2.linux2.l_i_gid_high = UInt16(truncatingIfNeeded: metadata.gid >> 16)
        raw.i_links_count = UInt16(clamping: links)
        raw.i_extra_isize = UInt16(MemoryLayout<ext2_inode_large>.size - Int(EXT2_GOOD_OLD_INODE_SIZE))
        let (seconds, extra) = Self.encodeTime(metadata.mtimeSeconds, metadata.mtimeNanoseconds)
        // One time for all four stamps: the layer only carries mtime, and reproducible output
        // rules out "now".
        raw.i_mtime = seconds
        raw.i_atime = seconds
        raw.i_ctime = seconds
        raw.i_crtime = seconds
        raw.i_mtime_extra = extra
        raw.i_atime_extra = extra
        raw.i_ctime_extra = extra
        raw.i_crtime_extra = extra
    }

    /// (low 32 bits of seconds, epoch bits | nanoseconds << 2), as the kernel encodes them.
    static func encodeTime(_ seconds: Int64, _ nanoseconds: UInt32) -> (UInt32, UInt32) {
        let lowest = -(Int64(1) << 31), highest = (Int64(1) << 34) - (Int64(1) << 31) - 1
        let clamped = min(max(seconds, lowest), highest)
        let low = UInt32(truncatingIfNeeded: clamped)
        let epoch = UInt32(truncatingIfNeeded: (clamped - Int64(Int32(truncatingIfNeeded: clamped))) >> 32) & 3
        return (low, epoch | (nanoseconds << 2))
    }

    static func decodeTime(_ low: UInt32, _ extra: UInt32) -> (Int64, UInt32) {
        let epoch = Int64(extra & 3)
        return (Int64(Int32(bitPattern: low)) + (epoch << 32), extra >> 2)
    }

    mutating func setBlockArea(_ bytes: [UInt8]) {
        precondition(bytes.count <= 60)
        withUnsafeMutableBytes(of: &raw.i_block) { area in
            for i in 0..<60 { area[i] = i < bytes.count ? bytes[i] : 0 }
        }
    }

    mutating func setSize(_ size: Int64) {
        raw.i_size = UInt32(truncatingIfNeeded: size)
        raw.i_size_high = UInt32(truncatingIfNeeded: size >> 32)
    }
}

enum FileTypeCode {
    static func mode(of content: Content) -> UInt16 {
        switch content {
        case .regular: 0o100000
        case .directory: 0o040000
        case .symlink: 0o120000
        case .characterDevice: 0o020000
        case .blockDevice: 0o060000
        case .fifo: 0o010000
        case .socket: 0o140000
        }
    }

    /// The type byte in directory records (EXT2_FT_*).
    static func directoryType(of content: Content) -> UInt8 {
        switch content {
        case .regular: 1
        case .directory: 2
        case .characterDevice: 3
        case .blockDevice: 4
        case .fifo: 5
        case .socket: 6
        case .symlink: 7
        }
    }
}
