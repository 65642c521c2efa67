/// One extent: `length` blocks of a file from `logical` stored at `physical`.
struct Extent: Equatable {
    var logical: UInt32
    var physical: UInt64
    var length: UInt32

    /// ext4's limit for an initialized extent.
    static let maxLength: UInt32 = 32768
}

/// The on-disk extent tree for a list of extents: up to 4 fit in the inode itself; more go in
/// tree blocks of 340 entries below index entries in the inode (ext4_extents.h layout).
struct ExtentTree {
    static let magic: UInt16 = 0xF30A
    static let entriesInInode = 4
    static let entriesPerBlock = (4096 - 12) / 12  // 340, leaving room for the checksum tail

    /// The 60 bytes that go in i_block.
    var inodeBlock: [UInt8]
    /// Tree blocks to write: (index into `blocks` passed to `build`, 4096 bytes).
    var nodes: [(block: UInt64, bytes: [UInt8])]

    /// How many tree blocks `extentCount` extents need.
    static func nodeBlocks(forExtents extentCount: Int) -> Int {
        guard extentCount > entriesInInode else { return 0 }
        var total = 0
        var level = extentCount
        while level > entriesInInode {
            level = (level + entriesPerBlock - 1) / entriesPerBlock
            total += level
        }
        return total
    }

    /// Builds the tree; `treeBlocks` are physical blocks already allocated for its nodes
    /// (exactly `nodeBlocks(forExtents:)` of them).
    init(extents: [Extent], treeBlocks: [UInt64]) {
        precondition(treeBlocks.count == Self.nodeBlocks(forExtents: extents.count))
        if extents.count <= Self.entriesInInode {
            inodeBlock = Self.node(depth: 0, max: Self.entriesInInode, size: 60, entries: extents.map(Self.leafEntry))
            nodes = []
            return
        }
        var nodes: [(block: UInt64, bytes: [UInt8])] = []
        var nextTreeBlock = 0
        // Each level: (first logical block, entry bytes) of the nodes of that level.
        var level: [(first: UInt32, entry: [UInt8])] = extents.map { ($0.logical, Self.leafEntry($0)) }
        var depth: UInt16 = 0
        while level.count > Self.entriesInInode {
            var upper: [(first: UInt32, entry: [UInt8])] = []
            for start in stride(from: 0, to: level.count, by: Self.entriesPerBlock) {
                let slice = level[start..<min(start + Self.entriesPerBlock, level.count)]
                let block = treeBlocks[nextTreeBlock]
                nextTreeBlock += 1
                nodes.append((block, Self.node(depth: depth, max: Self.entriesPerBlock, size: 4096, entries: slice.map(\.entry))))
                upper.append((slice.first!.first, Self.indexEntry(first: slice.first!.first, child: block)))
            }
            level = upper
            depth += 1
        }
        inodeBlock = Self.node(depth: depth, max: Self.entriesInInode, size: 60, entries: level.map(\.entry))
        self.nodes = nodes
    }

    private static func node(depth: UInt16, max: Int, size: Int, entries: [[UInt8]]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: size)
        bytes.storeLE(magic, at: 0)
        bytes.storeLE(UInt16(entries.count), at: 2)
        bytes.storeLE(UInt16(max), at: 4)
        bytes.storeLE(depth, at: 6)
        for (i, entry) in entries.enumerated() {
            bytes.replaceSubrange((12 + i * 12)..<(24 + i * 12), with: entry)
        }
        return bytes
    }

    private static func leafEntry(_ extent: Extent) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 12)
        bytes.storeLE(extent.logical, at: 0)
        bytes.storeLE(UInt16(extent.length), at: 4)
        bytes.storeLE(UInt16(truncatingIfNeeded: extent.physical >> 32), at: 6)
        bytes.storeLE(UInt32(truncatingIfNeeded: extent.physical), at: 8)
        return bytes
    }

    private static func indexEntry(first: UInt32, child: UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 12)
        bytes.storeLE(first, at: 0)
        bytes.storeLE(UInt32(truncatingIfNeeded: child), at: 4)
        bytes.storeLE(UInt16(truncatingIfNeeded: child >> 32), at: 8)
        return bytes
    }
}

extension Array where Element == UInt8 {
    /// Stores an integer little-endian at a byte offset (ext4 is little-endian on every host).
    mutating func storeLE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        var v = value.littleEndian
        Swift.withUnsafeBytes(of: &v) { raw in
            for i in 0..<raw.count { self[offset + i] = raw[i] }
        }
    }

    func loadLE<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        var v = T.zero
        Swift.withUnsafeMutableBytes(of: &v) { raw in
            for i in 0..<raw.count { raw[i] = self[offset + i] }
        }
        return T(littleEndian: v)
    }
}
