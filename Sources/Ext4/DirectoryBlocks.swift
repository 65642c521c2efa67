/// One name in a directory, as written to disk.
struct DirectoryRecord {
    var name: [UInt8]
    var inode: UInt32
    var fileType: UInt8

    /// Bytes a record needs: 8-byte header plus the name padded to 4.
    var size: Int { 8 + (name.count + 3) & ~3 }
}

/// Builds a directory's blocks in one go (instead of ext2fs_link's insert-and-rescan, which
/// is quadratic): one linear block when everything fits, else a hashed (htree) directory
/// with one or two index levels. Every block leaves room for the checksum tail.
struct DirectoryBlocks {
    static let blockSize = 4096
    static let tailSize = 12
    /// Hash function applied to names; stored in dx_root as the superblock's default.
    static let storedHashVersion: UInt8 = 1  // half_md4

    var blocks: [[UInt8]]
    var indexed: Bool

    /// - Parameter hash: (name) -> (hash, minor hash), the filesystem's directory hash.
    init(
        selfInode: UInt32, parentInode: UInt32, records: [DirectoryRecord], path: String,
        hash: ([UInt8]) throws(Ext4Error) -> (UInt32, UInt32)
    ) throws(Ext4Error) {
        let dot = DirectoryRecord(name: [UInt8(ascii: ".")], inode: selfInode, fileType: 2)
        let dotdot = DirectoryRecord(name: [UInt8(ascii: "."), UInt8(ascii: ".")], inode: parentInode, fileType: 2)
        let usable = Self.blockSize - Self.tailSize
        if 12 + 12 + records.reduce(0, { $0 + $1.size }) <= usable {
            blocks = [Self.leaf([dot, dotdot] + records)]
            indexed = false
            return
        }
        indexed = true
        // Leaves hold names in hash order; a run of equal hashes never straddles two leaves,
        // so each index entry's hash is exactly its leaf's lowest.
        var unsorted: [(record: DirectoryRecord, hash: (UInt32, UInt32))] = []
        unsorted.reserveCapacity(records.count)
        for record in records { unsorted.append((record, try hash(record.name))) }
        let hashed =
            unsorted
            .sorted { a, b in
                if a.hash.0 != b.hash.0 { return a.hash.0 < b.hash.0 }
                if a.hash.1 != b.hash.1 { return a.hash.1 < b.hash.1 }
                return a.record.name.lexicographicallyPrecedes(b.record.name)
            }
        var leaves: [(hash: UInt32, records: [DirectoryRecord])] = []
        var current: [DirectoryRecord] = []
        var currentHash: UInt32 = 0
        var used = 0
        var index = 0
        while index < hashed.count {
            var end = index
            var runSize = 0
            while end < hashed.count, hashed[end].hash.0 == hashed[index].hash.0 {
                runSize += hashed[end].record.size
                end += 1
            }
            guard runSize <= usable else { throw .directoryTooLarge(path: path) }
            if used + runSize > usable {
                leaves.append((currentHash, current))
                current = []
                used = 0
            }
            if current.isEmpty { currentHash = hashed[index].hash.0 }
            current += hashed[index..<end].map(\.record)
            used += runSize
            index = end
        }
        if !current.isEmpty { leaves.append((currentHash, current)) }

        let rootLimit = (Self.blockSize - 32) / 8 - 1  // 507: one slot goes to the checksum tail
        let nodeLimit = (Self.blockSize - 8) / 8 - 1  // 510
        var blocks: [[UInt8]] = []
        if leaves.count <= rootLimit {
            // Block 0 is the root, leaves follow.
            let entries = leaves.enumerated().map { (hash: $1.hash, block: UInt32(1 + $0)) }
            blocks.append(Self.root(dot: dot, dotdot: dotdot, levels: 0, limit: rootLimit, entries: entries))
            blocks += leaves.map { Self.leaf($0.records) }
        } else {
            let groups = stride(from: 0, to: leaves.count, by: nodeLimit).map { Array(leaves[$0..<min($0 + nodeLimit, leaves.count)]) }
            guard groups.count <= rootLimit else { throw .directoryTooLarge(path: path) }
            // Block 0 root, then the interior nodes, then the leaves.
            let firstLeaf = UInt32(1 + groups.count)
            var leafNumber = firstLeaf
            var interior: [[UInt8]] = []
            var rootEntries: [(hash: UInt32, block: UInt32)] = []
            for (g, group) in groups.enumerated() {
                var entries: [(hash: UInt32, block: UInt32)] = []
                for leaf in group {
                    entries.append((leaf.hash, leafNumber))
                    leafNumber += 1
                }
                interior.append(Self.interiorNode(limit: nodeLimit, entries: entries))
                rootEntries.append((group[0].hash, UInt32(1 + g)))
            }
            blocks.append(Self.root(dot: dot, dotdot: dotdot, levels: 1, limit: rootLimit, entries: rootEntries))
            blocks += interior
            blocks += leaves.map { Self.leaf($0.records) }
        }
        self.blocks = blocks
    }

    /// A leaf: records packed, the last stretched to the checksum tail.
    static func leaf(_ records: [DirectoryRecord]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: blockSize)
        var offset = 0
        for (i, record) in records.enumerated() {
            let isLast = i == records.count - 1
            let length = isLast ? blockSize - tailSize - offset : record.size
            bytes.storeLE(record.inode, at: offset)
            bytes.storeLE(UInt16(length), at: offset + 4)
            bytes[offset + 6] = UInt8(record.name.count)
            bytes[offset + 7] = record.fileType
            bytes.replaceSubrange((offset + 8)..<(offset + 8 + record.name.count), with: record.name)
            offset += length
        }
        // Checksum tail: a fake empty record; libext2fs fills the checksum in.
        bytes.storeLE(UInt16(tailSize), at: blockSize - tailSize + 4)
        bytes[blockSize - tailSize + 7] = 0xDE
        return bytes
    }

    /// dx_root: "." and ".." records, dx_root_info, then count/limit and the entries.
    static func root(dot: DirectoryRecord, dotdot: DirectoryRecord, levels: UInt8, limit: Int, entries: [(hash: UInt32, block: UInt32)]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: blockSize)
        bytes.storeLE(dot.inode, at: 0)
        bytes.storeLE(UInt16(12), at: 4)
        bytes[6] = 1
        bytes[7] = 2
        bytes[8] = UInt8(ascii: ".")
        bytes.storeLE(dotdot.inode, at: 12)
        bytes.storeLE(UInt16(blockSize - 12), at: 16)
        bytes[18] = 2
        bytes[19] = 2
        bytes[20] = UInt8(ascii: ".")
        bytes[21] = UInt8(ascii: ".")
        // dx_root_info
        bytes[28] = storedHashVersion
        bytes[29] = 8
        bytes[30] = levels
        writeEntries(&bytes, at: 32, limit: limit, entries: entries)
        return bytes
    }

    /// An interior index block: a record spanning the block (so linear readers skip it).
    static func interiorNode(limit: Int, entries: [(hash: UInt32, block: UInt32)]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: blockSize)
        bytes.storeLE(UInt16(blockSize), at: 4)
        writeEntries(&bytes, at: 8, limit: limit, entries: entries)
        return bytes
    }

    /// count/limit share the first entry's slot (whose hash is implicitly 0).
    private static func writeEntries(_ bytes: inout [UInt8], at offset: Int, limit: Int, entries: [(hash: UInt32, block: UInt32)]) {
        bytes.storeLE(UInt16(limit), at: offset)
        bytes.storeLE(UInt16(entries.count), at: offset + 2)
        bytes.storeLE(entries[0].block, at: offset + 4)
        for (i, entry) in entries.enumerated().dropFirst() {
            bytes.storeLE(entry.hash, at: offset + i * 8)
            bytes.storeLE(entry.block, at: offset + i * 8 + 4)
        }
    }

    /// Blocks a directory of these names needs, without hashing (for sizing): generous.
    static func estimatedBlocks(recordBytes: Int) -> Int {
        let usable = blockSize - tailSize
        if 24 + recordBytes <= usable { return 1 }
        let leaves = (recordBytes * 5 / 4 + usable - 1) / usable + 1
        return 1 + leaves + leaves / 500 + 1
    }
}
