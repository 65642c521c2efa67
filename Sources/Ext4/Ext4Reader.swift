import CExt2fs

/// One file as read back from an ext4 filesystem.
public struct Ext4Entry: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case file, dir, symlink, char, block, fifo, socket, unknown
    }

    public var path: [UInt8]
    public var kind: Kind
    public var permissions: UInt16
    public var uid: UInt32
    public var gid: UInt32
    public var size: Int64
    public var linkTarget: [UInt8]?
    public var xattrNames: [String]
    public var links: Int
    public var inode: UInt32
    public var mtimeSeconds: Int64
    public var mtimeNanoseconds: UInt32
    public var device: (major: UInt32, minor: UInt32)?
    /// Blocks holding data (sparse files have fewer than their size).
    public var allocatedBlocks: Int64

    public static func == (a: Ext4Entry, b: Ext4Entry) -> Bool {
        a.path == b.path && a.kind == b.kind && a.permissions == b.permissions && a.uid == b.uid && a.gid == b.gid
            && a.size == b.size && a.linkTarget == b.linkTarget && a.xattrNames == b.xattrNames && a.inode == b.inode
    }
}

/// Reads a filesystem back through libext2fs: every path with its metadata.
public struct Ext4Reader {
    private let filesystem: Ext2Filesystem

    public init(path: String, offset: Int64) throws {
        filesystem = try Ext2Filesystem.open(path: path, offset: offset)
    }

    public var uuid: [UInt8] { filesystem.uuid }
    public var blockCount: Int64 { filesystem.usage.blocks }
    public var freeBlocks: Int64 { filesystem.usage.freeBlocks }
    public var usedInodes: Int { filesystem.usage.inodes }

    /// Every path below the root (the root itself first), depth first, names in byte order.
    public func entries() throws -> [Ext4Entry] {
        var result: [Ext4Entry] = []
        try walk { result.append($0) }
        return result
    }

    /// How many paths `entries()` would list, without building or keeping any of them.
    public func count() throws -> Int {
        var count = 0
        try walk(withPaths: false) { _ in count += 1 }
        return count
    }

    /// Visits every path as `entries()` orders them, holding only the open folders' names (a
    /// path is built for each entry only `withPaths`, and dropped after the visit). Each
    /// directory is entered once, so a crafted disk whose entries point back at an ancestor
    /// cannot make the walk loop or explode; it is iterative and bounded in depth, so no disk
    /// can overflow the stack.
    public func walk(withPaths: Bool = true, _ visit: (Ext4Entry) throws -> Void) throws {
        let root = ext2_ino_t(EXT2_ROOT_INO)
        try visit(try entry(inode: root, path: [UInt8(ascii: "/")]))
        var visited: Set<ext2_ino_t> = [root]
        // The open folders: each one's name in its parent, its sorted entries, the next one.
        var frames: [(name: [UInt8], names: [([UInt8], ext2_ino_t)], next: Int)] = [([], try sortedNames(in: root), 0)]
        while !frames.isEmpty {
            let top = frames.count - 1
            guard frames[top].next < frames[top].names.count else {
                frames.removeLast()
                continue
            }
            let (name, number) = frames[top].names[frames[top].next]
            frames[top].next += 1
            var path: [UInt8] = []
            if withPaths {
                for frame in frames.dropFirst() { path += [UInt8(ascii: "/")] + frame.name }
                path += [UInt8(ascii: "/")] + name
            }
            let item = try entry(inode: number, path: path)
            try visit(item)
            if item.kind == .dir, visited.insert(number).inserted {
                guard frames.count < 4096 else { throw Ext4Error.treeTooDeep(limit: 4096) }
                frames.append((name, try sortedNames(in: number), 0))
            }
        }
    }

    private func sortedNames(in directory: ext2_ino_t) throws -> [([UInt8], ext2_ino_t)] {
        try names(in: directory).sorted { $0.0.lexicographicallyPrecedes($1.0) }
    }

    private func names(in directory: ext2_ino_t) throws -> [([UInt8], ext2_ino_t)] {
        try filesystem.directoryEntries(directory)
    }

    private func entry(inode number: ext2_ino_t, path: [UInt8]) throws -> Ext4Entry {
        var raw = try filesystem.readInode(number)
        let kind: Ext4Entry.Kind
        switch raw.i_mode & 0o170000 {
        case 0o100000: kind = .file
        case 0o040000: kind = .dir
        case 0o120000: kind = .symlink
        case 0o020000: kind = .char
        case 0o060000: kind = .block
        case 0o010000: kind = .fifo
        case 0o140000: kind = .socket
        default: kind = .unknown
        }
        let size = Int64(bitPattern: UInt64(raw.i_size) | UInt64(raw.i_size_high) << 32)
        let (seconds, nanoseconds) = InodeRecord.decodeTime(raw.i_mtime, raw.i_mtime_extra)
        var device: (UInt32, UInt32)?
        if kind == .char || kind == .block {
            let (old, new) = withUnsafeBytes(of: raw.i_block) { ($0.load(fromByteOffset: 0, as: UInt32.self), $0.load(fromByteOffset: 4, as: UInt32.self)) }
            device = old != 0 ? ((old >> 8) & 0xFF, old & 0xFF) : ((new & 0xFFF00) >> 8, (new & 0xFF) | ((new >> 12) & 0xFFF00))
        }
        let blocks = filesystem.allocatedBlocks(&raw)
        return Ext4Entry(
            path: path, kind: kind, permissions: raw.i_mode & 0o7777,
            uid: UInt32(raw.i_uid) | UInt32(raw.osd2.linux2.l_i_uid_high) << 16,
            gid: UInt32(raw.i_gid) | UInt32(raw.osd2.linux2.l_i_gid_high) << 16,
            size: size, linkTarget: kind == .symlink ? try symlinkTarget(number, raw: &raw, size: Int(max(0, min(size, 4095)))) : nil,
            xattrNames: try xattrNames(number), links: Int(raw.i_links_count), inode: number,
            mtimeSeconds: seconds, mtimeNanoseconds: nanoseconds, device: device, allocatedBlocks: blocks)
    }

    private func symlinkTarget(_ number: ext2_ino_t, raw: inout ext2_inode_large, size: Int) throws -> [UInt8] {
        if raw.i_flags & UInt32(EXT4_EXTENTS_FL | EXT4_INLINE_DATA_FL) == 0 && size < 60 {
            return withUnsafeBytes(of: raw.i_block) { Array($0.prefix(size)) }
        }
        return try readFile(number, limit: size)
    }

    /// Reads up to `limit` bytes of a file's data.
    public func readFile(_ number: UInt32, limit: Int) throws -> [UInt8] {
        try filesystem.readFile(number, limit: max(0, min(limit, 1 << 30)))
    }

    private func xattrNames(_ number: ext2_ino_t) throws -> [String] {
        try filesystem.xattrNames(number).sorted()
    }
}
