import CExt2fs
import Archive
import Flatten
#if canImport(Glibc)
import Glibc
#endif

/// What was written, for the summary.
public struct Ext4Summary: Sendable, Equatable {
    /// Inodes in use, the reserved ones included.
    public var inodes: Int
    /// The tree's entries with the root folder, plus lost+found: every inode in use but the
    /// reserved ones other than root's.
    public var entries: Int { inodes - (Ext4Parameters.reservedInodes - 1) }
    public var directories: Int
    public var blocksUsed: Int64
    public var blocksTotal: Int64
}

/// Writes a flattened tree as a new ext4 filesystem inside an existing file, in-process with
/// libext2fs: no mount, no loop device, no root. Directories, extent trees and inodes are
/// each built once, in sorted order, so the same tree always gives the same bytes.
public final class Ext4Writer {
    private let filesystem: Ext2Filesystem
    /// The superblock's hash seed, read once (every directory entry's hash needs it).
    private var hashSeed: [UInt32] = []
    private let spill: SpillFile
    private let offset: Int64
    private let dataSink: Ext4DataSink
    private var allocator: BlockAllocator
    private var directories = 0

    /// - Parameters:
    ///   - path: an existing file at least `offset + blocks * 4096` bytes long, all zeros there.
    ///   - offset: where the filesystem starts (1 MiB for the root partition).
    ///   - dataSink: where file data goes, if not into `path` (which then reads as zeros there).
    public static func write(
        tree: FileTree, spill: SpillFile, path: String, offset: Int64, blocks: UInt64,
        requirements: Ext4Requirements, parameters: Ext4Parameters,
        dataSink: Ext4DataSink? = nil
    ) throws -> Ext4Summary {
        var template = parameters.superblockTemplate()
        Ext4Parameters.setCounts(&template, blocks: blocks, inodes: Ext4Parameters.inodeCount(blocks: blocks, needed: requirements.inodes))
        let filesystem = try Ext2Filesystem.create(path: path, offset: offset, parameters: &template)
        let writer = Ext4Writer(filesystem: filesystem, spill: spill, offset: offset, dataSink: try dataSink ?? DiskFileDataSink(path: path))
        try writer.configure(parameters)
        try writer.writeTree(tree)
        let summary = writer.summary()
        try filesystem.close()
        return summary
    }

    private init(filesystem: Ext2Filesystem, spill: SpillFile, offset: Int64, dataSink: Ext4DataSink) {
        self.filesystem = filesystem
        self.spill = spill
        self.offset = offset
        self.dataSink = dataSink
        self.allocator = BlockAllocator(filesystem: filesystem)
    }

    // MARK: - Filesystem skeleton (what mke2fs does before any file exists)

    private func configure(_ parameters: Ext4Parameters) throws {
        filesystem.configure(uuid: parameters.uuid, hashSeed: parameters.hashSeed, label: parameters.label, timestamp: parameters.timestamp)
        hashSeed = filesystem.hashSeed
        try filesystem.allocateGroupTables()
        // Reserved inodes 1–10 are in use and written zeroed (with checksums), as mke2fs does.
        for ino in 1..<UInt32(EXT2_FIRST_INO_default) {
            filesystem.markInodeInUse(ino, isDirectory: ino == UInt32(EXT2_ROOT_INO))
            var zero = ext2_inode_large()
            try filesystem.writeInode(ino, &zero, "write reserved inode \(ino)")
        }
        try filesystem.addJournal()
        allocator = BlockAllocator(filesystem: filesystem)
    }

    // MARK: - Files

    private func writeTree(_ tree: FileTree) throws {
        // Numbers first (directories need their children's), in walk order: reproducible.
        var next = ext2_ino_t(EXT2_FIRST_INO_default)
        let limit = filesystem.inodeCapacity
        var order: [(path: [[UInt8]], inode: Inode)] = []
        tree.walk { path, inode in
            if path.isEmpty {
                inode.number = UInt32(EXT2_ROOT_INO)
            } else {
                inode.number = next
                next += 1
            }
            order.append((path, inode))
        }
        guard next - 1 <= limit else { throw Ext4Error.tooManyInodes(needed: Int(next), available: Int(limit)) }
        for (_, inode) in order where inode.number != EXT2_ROOT_INO {
            filesystem.markInodeInUse(inode.number, isDirectory: inode.isDirectory)
        }
        var parents: [ObjectIdentifier: UInt32] = [ObjectIdentifier(tree.root): UInt32(EXT2_ROOT_INO)]
        for (path, inode) in order {
            if case .directory(let directory) = inode.content {
                for child in directory.children.values where child.inode.isDirectory {
                    parents[ObjectIdentifier(child.inode)] = inode.number
                }
            }
            try write(inode, path: path, parent: parents[ObjectIdentifier(inode)] ?? UInt32(EXT2_ROOT_INO))
        }
    }

    private func write(_ inode: Inode, path: [[UInt8]], parent: UInt32) throws {
        let display = "/" + path.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/")
        let mode = FileTypeCode.mode(of: inode.content) | (inode.metadata.permissions & 0o7777)
        var links = inode.linkCount
        var record: InodeRecord
        switch inode.content {
        case .regular(let file):
            record = InodeRecord(mode: mode, metadata: inode.metadata, links: links)
            record.setSize(file.size)
            try placeData(file, inode: inode.number, into: &record, path: display)
        case .directory(let directory):
            let subdirectories = directory.subdirectoryCount
            links = 2 + subdirectories
            if links >= 65000 { links = 1 }  // dir_nlink: "many"
            record = InodeRecord(mode: mode, metadata: inode.metadata, links: links)
            try placeDirectory(directory, inode: inode.number, parent: parent, into: &record, path: display)
            directories += 1
        case .symlink(let target):
            record = InodeRecord(mode: mode, metadata: inode.metadata, links: links)
            record.setSize(Int64(target.count))
            if target.count < 60 {
                record.setBlockArea(target)  // fast symlink: the target lives in i_block
            } else {
                var block = target
                block += [UInt8](repeating: 0, count: Ext4Parameters.blockSize - target.count)
                let stretch = try allocator.allocate(1)[0]
                try writeBlock(block, at: stretch.start)
                try setExtents([Extent(logical: 0, physical: stretch.start, length: 1)], dataBlocks: 1, inode: inode.number, into: &record)
            }
        case .characterDevice(let major, let minor), .blockDevice(let major, let minor):
            guard major <= 0xFFF, minor <= 0xFFFFF else { throw Ext4Error.deviceNumberTooLarge(path: display) }
            record = InodeRecord(mode: mode, metadata: inode.metadata, links: links)
            var area = [UInt8](repeating: 0, count: 8)
            if major < 256 && minor < 256 {
                area.storeLE(UInt32(major << 8 | minor), at: 0)
            } else {
                area.storeLE(UInt32((minor & 0xFF) | (major << 8) | ((minor & ~0xFF) << 12)), at: 4)
            }
            record.setBlockArea(area)
        case .fifo, .socket:
            record = InodeRecord(mode: mode, metadata: inode.metadata, links: links)
        }
        try filesystem.writeInode(inode.number, &record.raw, "write inode of \(display)")
        if !inode.metadata.xattrs.isEmpty { try filesystem.setXattrs(inode.metadata.xattrs, of: inode.number, display) }
    }

    /// Allocates the file's blocks, moves its data from the spill file (in-kernel copy), and
    /// maps it with extents; holes stay unallocated.
    private func placeData(_ file: FileData, inode: UInt32, into record: inout InodeRecord, path: String) throws {
        let total = file.allocatedBlocks
        guard total > 0 else {
            try setExtents([], dataBlocks: 0, inode: inode, into: &record)
            return
        }
        guard (file.size + 4095) / 4096 <= Int64(UInt32.max) else { throw Ext4Error.unsupported("\(path): file too large for ext4") }
        let stretches = try allocator.allocate(total)
        var extents: [Extent] = []
        var stretchIndex = 0, used: UInt64 = 0
        for run in file.runs {
            var remaining = UInt64(run.count), logical = UInt64(run.fileBlock), spillBlock = UInt64(run.spillBlock)
            while remaining > 0 {
                let stretch = stretches[stretchIndex]
                let n = min(remaining, stretch.length - used)
                let physical = stretch.start + used
                try copyFromSpill(block: spillBlock, to: physical, count: n, path: path)
                appendExtent(&extents, logical: logical, physical: physical, count: n)
                remaining -= n; logical += n; spillBlock += n; used += n
                if used == stretch.length { stretchIndex += 1; used = 0 }
            }
        }
        try setExtents(extents, dataBlocks: total, inode: inode, into: &record)
    }

    private func appendExtent(_ extents: inout [Extent], logical: UInt64, physical: UInt64, count: UInt64) {
        var logical = logical, physical = physical, count = count
        while count > 0 {
            if var last = extents.last, UInt64(last.logical) + UInt64(last.length) == logical,
                last.physical + UInt64(last.length) == physical, last.length < Extent.maxLength
            {
                let n = min(count, UInt64(Extent.maxLength - last.length))
                last.length += UInt32(n)
                extents[extents.count - 1] = last
                logical += n; physical += n; count -= n
                continue
            }
            let n = min(count, UInt64(Extent.maxLength))
            extents.append(Extent(logical: UInt32(logical), physical: physical, length: UInt32(n)))
            logical += n; physical += n; count -= n
        }
    }

    /// Puts the extent tree in the inode (and tree blocks, for many extents).
    private func setExtents(_ extents: [Extent], dataBlocks: Int64, inode: UInt32, into record: inout InodeRecord) throws {
        let nodeCount = ExtentTree.nodeBlocks(forExtents: extents.count)
        let treeBlocks = nodeCount == 0 ? [] : try allocator.allocate(Int64(nodeCount)).flatMap { s in (0..<s.length).map { s.start + $0 } }
        let tree = ExtentTree(extents: extents, treeBlocks: treeBlocks)
        for node in tree.nodes {
            var bytes = node.bytes
            try filesystem.checksumExtentBlock(&bytes, inode: inode)
            try filesystem.writeBlock(bytes, at: node.block)
        }
        record.setBlockArea(tree.inodeBlock)
        record.raw.i_flags |= UInt32(EXT4_EXTENTS_FL)
        try filesystem.setBlockCount(UInt64(dataBlocks) + UInt64(nodeCount), of: &record.raw)
    }

    private func placeDirectory(_ directory: Directory, inode: UInt32, parent: UInt32, into record: inout InodeRecord, path: String) throws {
        let records = directory.sortedNames.map { name in
            let child = directory.children[name]!.inode
            return DirectoryRecord(name: name, inode: child.number, fileType: FileTypeCode.directoryType(of: child.content))
        }
        let layout = try DirectoryBlocks(selfInode: inode, parentInode: parent, records: records, path: path, hash: hash)
        let stretches = try allocator.allocate(Int64(layout.blocks.count))
        var extents: [Extent] = []
        var logical: UInt64 = 0
        for stretch in stretches {
            for i in 0..<stretch.length {
                var block = layout.blocks[Int(logical + i)]
                try filesystem.writeDirectoryBlock(&block, at: stretch.start + i, inode: inode, "write directory \(path)")
            }
            appendExtent(&extents, logical: logical, physical: stretch.start, count: stretch.length)
            logical += stretch.length
        }
        record.setSize(Int64(layout.blocks.count * Ext4Parameters.blockSize))
        if layout.indexed { record.raw.i_flags |= UInt32(EXT2_INDEX_FL) }
        try setExtents(extents, dataBlocks: Int64(layout.blocks.count), inode: inode, into: &record)
    }

    /// The filesystem's directory hash of a name (half-MD4, unsigned variant, with our seed).
    private func hash(_ name: [UInt8]) throws(Ext4Error) -> (UInt32, UInt32) {
        try filesystem.directoryHash(name, seed: hashSeed)
    }

    // MARK: - Raw I/O

    private func writeBlock(_ bytes: [UInt8], at block: UInt64) throws {
        try filesystem.writeBlock(bytes, at: block)
    }

    private func copyFromSpill(block: UInt64, to physical: UInt64, count: UInt64, path: String) throws {
        let size = Int64(Ext4Parameters.blockSize)
        try dataSink.copy(
            from: spill.descriptor, at: Int64(block) * size, length: Int64(count) * size,
            toDiskOffset: offset + Int64(physical) * size, sourceName: path)
    }

    private func summary() -> Ext4Summary {
        let usage = filesystem.usage
        return Ext4Summary(inodes: usage.inodes, directories: directories, blocksUsed: usage.blocks - usage.freeBlocks, blocksTotal: usage.blocks)
    }
}

/// EXT2_FIRST_INO(sb) for dynamic-revision filesystems with default first inode.
private let EXT2_FIRST_INO_default = 11
