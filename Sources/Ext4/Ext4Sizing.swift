import Archive
import Flatten

/// What a tree needs from a filesystem, counted before anything is written, so a size that
/// is too small fails up front and `auto` sizes are exact.
public struct Ext4Requirements: Sendable, Equatable {
    /// Blocks for file data, directories, symlinks, extent trees and xattr blocks.
    public var blocks: Int64
    /// Inodes: the reserved ones, lost+found, and one per tree entry (the root folder's is
    /// counted, though it is reserved inode 2: one to spare).
    public var inodes: Int

    /// The tree's entries, its root folder among them.
    public var treeEntries: Int { inodes - Ext4Parameters.reservedInodes - 1 }

    public init(tree: FileTree) {
        var blocks: Int64 = 0
        var inodes = Ext4Parameters.reservedInodes + 1  // + lost+found
        tree.walk { _, inode in
            inodes += 1
            switch inode.content {
            case .regular(let file):
                let allocated = file.allocatedBlocks
                blocks += allocated
                // Extents: one per run, more where a run passes 32768 blocks or metadata.
                let extents = file.runs.count + Int(allocated / Int64(Extent.maxLength)) + 2
                blocks += Int64(ExtentTree.nodeBlocks(forExtents: extents))
            case .directory(let directory):
                let bytes = directory.children.keys.reduce(0) { $0 + 8 + (($1.count + 3) & ~3) }
                let count = DirectoryBlocks.estimatedBlocks(recordBytes: bytes)
                blocks += Int64(count + ExtentTree.nodeBlocks(forExtents: count))
            case .symlink(let target):
                if target.count >= 60 { blocks += 1 }
            default:
                break
            }
            if Self.needsXattrBlock(inode.metadata.xattrs) { blocks += 1 }
        }
        self.blocks = blocks
        self.inodes = inodes
    }

    /// Whether attributes overflow the room inside a 256-byte inode (about 96 bytes).
    static func needsXattrBlock(_ xattrs: [Xattr]) -> Bool {
        guard !xattrs.isEmpty else { return false }
        let bytes = xattrs.reduce(4) { $0 + 16 + (($1.name.utf8.count + 3) & ~3) + (($1.value.count + 3) & ~3) }
        return bytes > 92
    }
}

/// Picks the filesystem size.
public enum Ext4Sizing {
    /// The smallest filesystem (in blocks) that holds `requirements`, found by asking
    /// libext2fs for the metadata overhead of candidate sizes.
    public static func minimumBlocks(for requirements: Ext4Requirements, parameters: Ext4Parameters) throws -> UInt64 {
        let template = parameters.superblockTemplate()
        // A little slack for fragmentation around group metadata.
        let needed = requirements.blocks + requirements.blocks / 100 + 64
        var blocks = UInt64(max(needed + needed / 20 + 1024, 4096))
        for _ in 0..<64 {
            let inodes = Ext4Parameters.inodeCount(blocks: blocks, needed: requirements.inodes)
            // A group's inode bitmap is one block: many small files need more groups.
            let groups = (blocks + 32767) / 32768
            if UInt64(inodes) > groups * 32768 - 64 {
                blocks = (UInt64(inodes) / 32768 + 1) * 32768
                continue
            }
            let usable = try Ext2Filesystem.usableBlocks(blocks: blocks, inodes: inodes, parameters: template)
            if usable >= needed { return blocks }
            blocks += UInt64(needed - usable) + blocks / 64 + 16
        }
        throw Ext4Error.unsupported("cannot find a filesystem size for \(requirements.blocks) blocks")
    }
}
