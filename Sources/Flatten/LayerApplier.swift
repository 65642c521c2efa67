import Archive

/// The bytes of the entry being applied, block by block; gaps between blocks are holes.
public protocol EntryData {
    func nextBlock() throws -> (offset: Int64, bytes: UnsafeRawBufferPointer)?
}

extension ArchiveReader: EntryData {
    public func nextBlock() throws -> (offset: Int64, bytes: UnsafeRawBufferPointer)? { try readBlock() }
}

/// Applies layer entries to a `FileTree` with the OCI image-spec rules (layer.md):
///
/// | existing \ entry | directory            | anything else               |
/// |------------------|----------------------|-----------------------------|
/// | none             | create               | create                      |
/// | directory        | update metadata only | replace (subtree removed)   |
/// | non-directory    | replace              | replace                     |
///
/// - `.wh.NAME` removes NAME as lower layers left it; `DIR/.wh..wh..opq` empties DIR of lower
///   layers' entries. Both keep what the same layer adds, wherever the whiteout stands in the tar.
/// - Missing parents are created as directories, 0755 root:root.
/// - Parent components that are symlinks are followed inside the tree (never on the host);
///   the last component never is.
/// - A hard link names an existing non-directory; later replacing either name leaves the other.
public final class LayerApplier {
    public let tree: FileTree
    private let spill: SpillFile
    private var layer = 0
    /// Names and bytes written so far, for progress.
    public private(set) var entriesApplied = 0
    public private(set) var bytesWritten: Int64 = 0

    public init(tree: FileTree, spill: SpillFile) {
        self.tree = tree
        self.spill = spill
    }

    /// Entries applied from now on belong to layer `index` (0 is the lowest).
    public func beginLayer(_ index: Int) {
        layer = index + 1  // 0 is "before any layer": the root's own stamp
    }

    public func apply(_ entry: ArchiveEntry, data: any EntryData) throws {
        let display = entry.displayPath
        let path = try EntryPath(entry.path, display: display)
        entriesApplied += 1

        if path.isRoot {
            guard entry.kind == .directory else { throw FlattenError.rootNotDirectory(display) }
            tree.root.metadata = try metadata(of: entry, display: display)
            return
        }
        let name = path.name
        if name.starts(with: Whiteout.prefix) {
            try applyWhiteout(path, display: display)
            return
        }
        let parent = try resolveDirectory(path.parent, create: true, display: display)!

        switch entry.kind {
        case .directory:
            let meta = try metadata(of: entry, display: display)
            if let existing = parent.children[name], case .directory = existing.inode.content {
                existing.inode.metadata = meta
                parent.children[name]!.layer = layer
            } else {
                place(Inode(metadata: meta, content: .directory(Directory())), named: name, in: parent)
            }
        case .hardlink:
            let targetPath = try EntryPath(entry.linkTarget, display: String(decoding: entry.linkTarget, as: UTF8.self))
            let targetDisplay = String(decoding: entry.linkTarget, as: UTF8.self)
            guard !targetPath.isRoot,
                let targetParent = try resolveDirectory(targetPath.parent, create: false, display: display),
                let target = targetParent.children[targetPath.name]?.inode
            else { throw FlattenError.hardLinkTargetMissing(entry: display, target: targetDisplay) }
            guard !target.isDirectory else { throw FlattenError.hardLinkToDirectory(entry: display, target: targetDisplay) }
            if parent.children[name]?.inode === target { return }
            place(target, named: name, in: parent)
        default:
            let content = try readContent(of: entry, data: data, display: display)
            place(Inode(metadata: try metadata(of: entry, display: display), content: content), named: name, in: parent)
        }
    }

    // MARK: - Content

    private func readContent(of entry: ArchiveEntry, data: any EntryData, display: String) throws -> Content {
        switch entry.kind {
        case .regular:
            guard (0...FileDataWriter.maxFileSize).contains(entry.size) else { throw FlattenError.fileTooLarge(display) }
            let writer = FileDataWriter(spill: spill)
            while let block = try data.nextBlock() {
                guard try writer.write(offset: block.offset, bytes: block.bytes) else { throw FlattenError.dataOutOfOrder(display) }
            }
            let file = try writer.finish(size: entry.size)
            bytesWritten += file.allocatedBlocks * Int64(SpillFile.blockSize)
            return .regular(file)
        case .symlink:
            guard entry.linkTarget.count <= 4095 else { throw FlattenError.symlinkTooLong(display) }
            return .symlink(target: entry.linkTarget)
        case .characterDevice: return .characterDevice(major: entry.deviceMajor, minor: entry.deviceMinor)
        case .blockDevice: return .blockDevice(major: entry.deviceMajor, minor: entry.deviceMinor)
        case .fifo: return .fifo
        case .socket: return .socket
        case .directory, .hardlink: fatalError("handled by apply")
        }
    }

    private func metadata(of entry: ArchiveEntry, display: String) throws -> Metadata {
        guard (0...Int64(UInt32.max)).contains(entry.uid), (0...Int64(UInt32.max)).contains(entry.gid) else {
            throw FlattenError.idOutOfRange(display)
        }
        var byName: [String: Xattr] = [:]
        for xattr in entry.xattrs { byName[xattr.name] = xattr }
        return Metadata(
            permissions: entry.permissions, uid: UInt32(entry.uid), gid: UInt32(entry.gid),
            mtimeSeconds: entry.mtimeSeconds, mtimeNanoseconds: UInt32(entry.mtimeNanoseconds),
            xattrs: byName.keys.sorted().map { byName[$0]! })
    }

    // MARK: - Names

    /// Puts `inode` at `name`, replacing whatever was there.
    private func place(_ inode: Inode, named name: [UInt8], in directory: Directory) {
        if let old = directory.children.removeValue(forKey: name) { release(old.inode) }
        inode.linkCount += 1
        directory.children[name] = Directory.Child(inode: inode, layer: layer)
    }

    /// Drops one name of `inode`; the last name going frees its data, a directory's children too.
    private func release(_ inode: Inode) {
        var pending = [inode]  // a worklist, not recursion: trees can be deep
        while let next = pending.popLast() {
            next.linkCount -= 1
            guard next.linkCount == 0 else { continue }
            switch next.content {
            case .regular(let file): spill.release(file.runs)
            case .directory(let directory):
                pending.append(contentsOf: directory.children.values.map(\.inode))
                directory.children.removeAll()
            default: break
            }
        }
    }

    private func applyWhiteout(_ path: EntryPath, display: String) throws {
        let name = path.name
        // A whiteout whose parent does not exist hides nothing.
        guard let parent = try resolveDirectory(path.parent, create: false, display: display) else { return }
        if name == Whiteout.opaque {
            for (childName, child) in parent.children where !prune(child) {
                parent.children.removeValue(forKey: childName)
                release(child.inode)
            }
            return
        }
        if name.starts(with: Whiteout.metaPrefix) { return }
        let hidden = Array(name.dropFirst(Whiteout.prefix.count))
        guard !hidden.isEmpty, hidden != [UInt8(ascii: ".")], hidden != [UInt8(ascii: "."), UInt8(ascii: ".")] else {
            throw FlattenError.invalidWhiteout(display)
        }
        if let child = parent.children[hidden], !prune(child) {
            parent.children.removeValue(forKey: hidden)
            release(child.inode)
        }
    }

    /// Removes from `child`'s subtree what lower layers put there. Returns whether `child`
    /// itself stays: it does if this layer put it there or put something inside it.
    private func prune(_ child: Directory.Child) -> Bool {
        guard case .directory(let top) = child.inode.content else { return child.layer == layer }
        // Without recursion (no depth can overflow the stack): every folder below, in pre-order,
        // then settled in reverse, so each folder's own folders are settled before it is.
        var folders = [top]
        var index = 0
        while index < folders.count {
            for entry in folders[index].children.values {
                if case .directory(let sub) = entry.inode.content { folders.append(sub) }
            }
            index += 1
        }
        for directory in folders.reversed() {
            for (name, entry) in directory.children {
                let stays: Bool =
                    if case .directory(let sub) = entry.inode.content {
                        entry.layer == layer || !sub.children.isEmpty
                    } else {
                        entry.layer == layer
                    }
                if !stays {
                    directory.children.removeValue(forKey: name)
                    release(entry.inode)
                }
            }
        }
        return child.layer == layer || !top.children.isEmpty
    }

    /// Follows `components` from the root, resolving symlinks inside the tree. With `create`,
    /// missing directories are made and non-directories in the way replaced (as overlayfs
    /// shows an upper directory over a lower file); without, a missing one gives nil.
    ///
    /// The path it resolves to is bounded as the kernel bounds a lookup: 40 symlinks followed,
    /// and PATH_MAX for the result. Without that, a few symlinks that each point through the
    /// one before can unfold into a tree tens of thousands of folders deep from a small layer.
    func resolveDirectory(_ components: ArraySlice<[UInt8]>, create: Bool, display: String) throws -> Directory? {
        guard case .directory(let rootDirectory) = tree.root.content else { return nil }
        // Each folder on the way with the length of its path from the root.
        var stack: [(directory: Directory, length: Int)] = [(rootDirectory, 0)]
        var pending = Array(components.reversed())
        var expansions = 0
        while let component = pending.popLast() {
            if component.isEmpty || component == [UInt8(ascii: ".")] { continue }
            if component == [UInt8(ascii: "."), UInt8(ascii: ".")] {
                if stack.count > 1 { stack.removeLast() }
                continue
            }
            let (current, length) = stack[stack.count - 1]
            let childLength = length + 1 + component.count
            guard childLength <= EntryPath.maxPathLength else { throw FlattenError.resolvedPathTooLong(display) }
            if let child = current.children[component] {
                switch child.inode.content {
                case .directory(let next):
                    stack.append((next, childLength))
                    continue
                case .symlink(let target):
                    expansions += 1
                    guard expansions <= 40 else { throw FlattenError.symlinkLoop(display) }
                    if target.first == UInt8(ascii: "/") { stack = [(rootDirectory, 0)] }
                    let parts = target.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).map(Array.init)
                    pending.append(contentsOf: parts.reversed())
                    continue
                default:
                    guard create else { return nil }
                }
            }
            guard create else { return nil }
            let made = Directory()
            let meta = Metadata(permissions: 0o755, mtimeSeconds: tree.defaultTime)
            place(Inode(metadata: meta, content: .directory(made)), named: component, in: current)
            stack.append((made, childLength))
        }
        return stack[stack.count - 1].directory
    }
}
