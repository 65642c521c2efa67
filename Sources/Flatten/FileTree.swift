import Archive

/// The flattened image: a tree of names pointing at inodes, built in memory from the layers.
/// Only metadata lives here; regular files' bytes sit in the `SpillFile`.
public final class FileTree {
    public let root: Inode
    /// Time for directories no layer declares (implied parents, `/`).
    public let defaultTime: Int64

    public init(defaultTime: Int64) {
        self.defaultTime = defaultTime
        root = Inode(metadata: Metadata(permissions: 0o755, mtimeSeconds: defaultTime), content: .directory(Directory()))
        root.linkCount = 1
    }

    /// Every inode once, directories before their contents, names in byte order: the order
    /// the ext4 writer numbers inodes in, so output does not depend on layer entry order.
    ///
    /// Iterative, with an explicit stack: no input's depth can overflow the thread's stack.
    public func walk(_ visit: (_ path: [[UInt8]], _ inode: Inode) throws -> Void) rethrows {
        var seen = Set<ObjectIdentifier>([ObjectIdentifier(root)])
        try visit([], root)
        guard case .directory(let top) = root.content else { return }
        // One frame per open folder: its path, its names in order, the next one to visit.
        var frames: [(path: [[UInt8]], directory: Directory, names: [[UInt8]], next: Int)] = [([], top, top.sortedNames, 0)]
        while !frames.isEmpty {
            let top = frames.count - 1
            guard frames[top].next < frames[top].names.count else {
                frames.removeLast()
                continue
            }
            let name = frames[top].names[frames[top].next]
            frames[top].next += 1
            guard let inode = frames[top].directory.children[name]?.inode, seen.insert(ObjectIdentifier(inode)).inserted else { continue }
            let path = frames[top].path + [name]
            try visit(path, inode)
            if case .directory(let sub) = inode.content { frames.append((path, sub, sub.sortedNames, 0)) }
        }
    }
}

/// Ownership, permissions, time and extended attributes of a file.
public struct Metadata: Equatable, Sendable {
    /// Permission bits incl. setuid/setgid/sticky.
    public var permissions: UInt16
    public var uid: UInt32
    public var gid: UInt32
    public var mtimeSeconds: Int64
    public var mtimeNanoseconds: UInt32
    /// Sorted by name, unique.
    public var xattrs: [Xattr]

    public init(permissions: UInt16, uid: UInt32 = 0, gid: UInt32 = 0, mtimeSeconds: Int64, mtimeNanoseconds: UInt32 = 0, xattrs: [Xattr] = []) {
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
        self.mtimeSeconds = mtimeSeconds
        self.mtimeNanoseconds = mtimeNanoseconds
        self.xattrs = xattrs
    }
}

/// One file; several names share it when hard-linked.
public final class Inode {
    public var metadata: Metadata
    public var content: Content
    /// How many names in the tree point here; at 0 its data is released.
    public internal(set) var linkCount = 0
    /// Filled in by the ext4 writer.
    public var number: UInt32 = 0

    public init(metadata: Metadata, content: Content) {
        self.metadata = metadata
        self.content = content
    }

    public var isDirectory: Bool {
        if case .directory = content { return true }
        return false
    }
}

public enum Content {
    case directory(Directory)
    case regular(FileData)
    case symlink(target: [UInt8])
    case characterDevice(major: UInt32, minor: UInt32)
    case blockDevice(major: UInt32, minor: UInt32)
    case fifo
    case socket
}

/// A directory's names. Each child remembers the layer that last put it there: whiteouts
/// in layer L only remove what layers below L put (OCI image spec, layer.md).
public final class Directory {
    public struct Child {
        public var inode: Inode
        public var layer: Int
    }

    public internal(set) var children: [[UInt8]: Child] = [:]

    public init() {}

    /// Names in byte order: the order directories are written in, for reproducible output.
    public var sortedNames: [[UInt8]] {
        children.keys.sorted { $0.lexicographicallyPrecedes($1) }
    }

    public var subdirectoryCount: Int {
        children.values.reduce(0) { $0 + ($1.inode.isDirectory ? 1 : 0) }
    }
}

/// Where a regular file's bytes are in the spill file. Blocks not listed are holes (zeros).
public struct FileData: Equatable, Sendable {
    public var size: Int64
    public var runs: [DataRun]

    public init(size: Int64, runs: [DataRun]) {
        self.size = size
        self.runs = runs
    }

    /// Blocks that hold data (holes excluded).
    public var allocatedBlocks: Int64 { runs.reduce(0) { $0 + $1.count } }
}

/// `count` blocks of a file starting at `fileBlock`, stored at `spillBlock` in the spill file.
public struct DataRun: Equatable, Sendable {
    public var fileBlock: Int64
    public var spillBlock: Int64
    public var count: Int64

    public init(fileBlock: Int64, spillBlock: Int64, count: Int64) {
        self.fileBlock = fileBlock
        self.spillBlock = spillBlock
        self.count = count
    }
}

extension FileTree {
    /// The inode at `path` (`/`-separated, relative to the root), following symlinks in every
    /// component, the last included, without leaving the tree.
    public func resolve(_ path: String, hops: Int = 0) -> Inode? {
        guard hops < 40 else { return nil }
        var stack: [Inode] = [root]
        let parts = path.split(separator: "/").map { Array($0.utf8) }
        for (index, part) in parts.enumerated() {
            if part == Array(".".utf8) { continue }
            if part == Array("..".utf8) { if stack.count > 1 { stack.removeLast() }; continue }
            guard case .directory(let directory) = stack.last!.content, let child = directory.children[part]?.inode else { return nil }
            if case .symlink(let target) = child.content {
                let base = target.first == UInt8(ascii: "/") ? [] : parts[..<index].map { String(decoding: $0, as: UTF8.self) }
                let rest = parts[(index + 1)...].map { String(decoding: $0, as: UTF8.self) }
                return resolve((base + [String(decoding: target, as: UTF8.self)] + rest).joined(separator: "/"), hops: hops + 1)
            }
            stack.append(child)
        }
        return stack.last
    }

    /// Names in a directory (after resolving `path`), in byte order.
    public func list(_ path: String) -> [String] {
        guard case .directory(let directory)? = resolve(path)?.content else { return [] }
        return directory.sortedNames.map { String(decoding: $0, as: UTF8.self) }
    }
}
