import CExt2fs

/// What the ext4 reader (`inspect`, the tests) asks of libext2fs, as operations of the
/// handle's owner, every return code checked.
extension Ext2Filesystem {
    private var handle: ext2_filsys { fs! }  // set until `close`; a reader never closes

    var uuid: [UInt8] { withUnsafeBytes(of: handle.pointee.super.pointee.s_uuid) { Array($0) } }

    /// The names and inode numbers in a directory, `.` and `..` left out, in the on-disk order.
    func directoryEntries(_ directory: UInt32) throws(Ext4Error) -> [([UInt8], UInt32)] {
        final class Collector { var names: [([UInt8], UInt32)] = [] }
        let collector = Collector()
        let status = withExtendedLifetime(collector) {
            ext2fs_dir_iterate2(
                handle, directory, 0, nil,
                { _, _, dirent, _, _, _, context in
                    guard let dirent, let context else { return 0 }
                    let length = Int(dirent.pointee.name_len & 0xFF)
                    // Only the name's own bytes: the entry may end well before the struct's 255.
                    let start = UnsafeRawPointer(dirent) + (MemoryLayout.offset(of: \ext2_dir_entry.name) ?? 8)
                    let name = Array(UnsafeRawBufferPointer(start: start, count: length))
                    if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { return 0 }
                    Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue().names.append((name, dirent.pointee.inode))
                    return 0
                }, Unmanaged.passUnretained(collector).toOpaque())
        }
        try Self.check(status, "read directory \(directory)")
        return collector.names
    }

    /// The whole large inode.
    func readInode(_ number: UInt32) throws(Ext4Error) -> ext2_inode_large {
        var raw = ext2_inode_large()
        let handle = handle
        let code = withUnsafeMutablePointer(to: &raw) { pointer in
            pointer.withMemoryRebound(to: ext2_inode.self, capacity: 1) {
                ext2fs_read_inode_full(handle, number, $0, Int32(MemoryLayout<ext2_inode_large>.size))
            }
        }
        try Self.check(code, "read inode \(number)")
        return raw
    }

    /// Blocks the inode holds, in 4 KiB units (i_blocks counts 512-byte sectors, or blocks
    /// with huge_file).
    func allocatedBlocks(_ raw: inout ext2_inode_large) -> Int64 {
        let handle = handle
        return withUnsafeMutablePointer(to: &raw) { pointer in
            pointer.withMemoryRebound(to: ext2_inode.self, capacity: 1) { Int64(ext2fs_get_stat_i_blocks(handle, $0)) / 8 }
        }
    }

    /// Up to `limit` bytes of a file's data.
    func readFile(_ number: UInt32, limit: Int) throws(Ext4Error) -> [UInt8] {
        var file: ext2_file_t?
        try Self.check(ext2fs_file_open(handle, number, 0, &file), "open inode \(number)")
        defer { ext2fs_file_close(file) }
        var buffer = [UInt8](repeating: 0, count: limit)
        var total = 0
        while total < limit {
            var got: UInt32 = 0
            let code = buffer.withUnsafeMutableBytes { raw in
                ext2fs_file_read(file, raw.baseAddress.map { $0 + total }, UInt32(limit - total), &got)
            }
            try Self.check(code, "read inode \(number)")
            if got == 0 { break }
            total += Int(got)
        }
        return Array(buffer.prefix(total))
    }

    /// The names of an inode's extended attributes.
    func xattrNames(_ number: UInt32) throws(Ext4Error) -> [String] {
        final class Collector { var names: [String] = [] }
        var attributes: OpaquePointer?
        try Self.check(ext2fs_xattrs_open(handle, number, &attributes), "open xattrs of inode \(number)")
        defer { ext2fs_xattrs_close(&attributes) }
        try Self.check(ext2fs_xattrs_read(attributes), "read xattrs of inode \(number)")
        let collector = Collector()
        let status = withExtendedLifetime(collector) {
            ext2fs_xattrs_iterate(
                attributes,
                { name, _, _, context in
                    if let name, let context { Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue().names.append(String(cString: name)) }
                    return 0
                }, Unmanaged.passUnretained(collector).toOpaque())
        }
        try Self.check(status, "list xattrs of inode \(number)")
        return collector.names
    }
}
