import SystemBase
import CLinux
import Flatten
#if canImport(Glibc)
import Glibc
#endif

/// What the writer left out, and how much it wrote.
public struct WriteSummary: Sendable, Equatable {
    public var files = 0
    public var directories = 0
    public var dataBytes: Int64 = 0
    /// Image paths of device files not created (rootless: only root may mknod devices).
    public var skippedDevices: [String] = []
    /// `path: xattr` pairs the host refused (rootless: `security.*`, `trusted.*`).
    public var skippedXattrs: [String] = []
}

/// Writes a flattened tree into a host directory (a bundle's `rootfs/`), exactly: types,
/// modes, owners, xattrs, devices, hard links, nanosecond times, holes.
///
/// Safety against hostile images: every entry is made relative to a directory descriptor
/// this writer opened itself (O_DIRECTORY | O_NOFOLLOW, on a directory it has just made),
/// by one name that cannot be `.`, `..` or contain `/`. Nothing the image holds is ever
/// resolved on the host: symlinks are created, never followed; regular files are created
/// O_EXCL | O_NOFOLLOW; hard links name their target through openat2 RESOLVE_BENEATH |
/// RESOLVE_NO_SYMLINKS from the rootfs descriptor and linkat without AT_SYMLINK_FOLLOW.
///
/// Metadata order, per inode: content; owner (chown clears setuid and security.capability);
/// xattrs; mode; times last. Directories get theirs after their children, so adding a child
/// does not change their mtime and a read-only directory can still be filled.
public final class BundleWriter {
    private let spill: SpillCopy
    private let rootless: Bool
    private let isCancelled: () -> Int32?
    private let root: Int32
    /// Where each hard-linked inode was first written, for its further names.
    private var written: [ObjectIdentifier: [[UInt8]]] = [:]
    private var skipped = Set<ObjectIdentifier>()
    private var summary = WriteSummary()

    /// - Parameters:
    ///   - directory: an empty directory the caller made, e.g. `rootfs` in a private temporary folder.
    ///   - rootless: no chown, no device files, xattrs the host refuses skipped (noted).
    ///   - isCancelled: polled between entries; a signal number stops the write.
    public static func write(
        tree: FileTree, spill: SpillFile, into directory: Int32, rootless: Bool,
        isCancelled: @escaping () -> Int32? = { nil }
    ) throws -> WriteSummary {
        let writer = BundleWriter(spill: spill, root: directory, rootless: rootless, isCancelled: isCancelled)
        guard case .directory(let top) = tree.root.content else { throw BundleError.rootNotDirectory }
        try writer.writeChildren(of: top, fd: directory, path: [])
        try writer.finish(tree.root.metadata, fd: directory, path: [])
        writer.summary.directories += 1
        return writer.summary
    }

    private init(spill: SpillFile, root: Int32, rootless: Bool, isCancelled: @escaping () -> Int32?) {
        self.spill = SpillCopy(spill: spill, isCancelled: isCancelled)
        self.root = root
        self.rootless = rootless
        self.isCancelled = isCancelled
    }

    // MARK: - Entries

    /// A folder being filled: its descriptor (owned, closed when it is finished), its names
    /// in order and the next one to write.
    private struct Frame {
        let directory: Directory
        let fd: Int32
        let names: [[UInt8]]
        var next = 0
        let path: [[UInt8]]
        /// nil for the rootfs folder itself, which the caller owns and finishes.
        let inode: Inode?
    }

    /// Depth first, in name order, without recursion: no image's depth can overflow the stack.
    private func writeChildren(of top: Directory, fd root: Int32, path: [[UInt8]]) throws {
        var frames = [Frame(directory: top, fd: root, names: top.sortedNames, path: path, inode: nil)]
        defer { for frame in frames where frame.inode != nil { Glibc.close(frame.fd) } }
        while let last = frames.last {
            guard last.next < last.names.count else {
                frames.removeLast()
                if let inode = last.inode { try finishDirectory(inode, fd: last.fd, path: last.path) }
                continue
            }
            frames[frames.count - 1].next += 1
            if let signal = isCancelled() { throw BundleError.interrupted(signal: signal) }
            let name = last.names[last.next]
            guard let inode = last.directory.children[name]?.inode else { continue }
            let childPath = last.path + [name]
            try Self.check(name, childPath)
            if !inode.isDirectory, let first = written[ObjectIdentifier(inode)] {
                try link(first, as: name, in: last.fd, path: childPath)
                continue
            }
            if inode.linkCount > 1, skipped.contains(ObjectIdentifier(inode)) {
                summary.skippedDevices.append(displayPath(childPath))
                continue
            }
            if case .directory(let directory) = inode.content {
                let display = displayPath(childPath)
                _ = try name.withCName { n in try posix("\(display): mkdir") { mkdirat(last.fd, n, 0o700) } }
                let child = try OwnedDescriptor.directory(name, in: last.fd, "\(display): open").release()
                frames.append(Frame(directory: directory, fd: child, names: directory.sortedNames, path: childPath, inode: inode))
            } else {
                try write(inode, named: name, in: last.fd, path: childPath)
            }
        }
    }

    /// A folder's metadata once everything inside is written; then its descriptor is closed.
    private func finishDirectory(_ inode: Inode, fd: Int32, path: [[UInt8]]) throws {
        let descriptor = OwnedDescriptor(adopting: fd)
        try finish(inode.metadata, fd: descriptor.raw, path: path)
        try descriptor.close("\(displayPath(path)): close")
        summary.directories += 1
    }

    /// Everything but folders (which `writeChildren` makes and enters).
    private func write(_ inode: Inode, named name: [UInt8], in fd: Int32, path: [[UInt8]]) throws {
        var display: String { displayPath(path) }  // only built for a message
        switch inode.content {
        case .directory:
            throw BundleError.unexpectedFolder(display)
        case .regular(let data):
            let file = OwnedDescriptor(
                adopting: try name.withCName { n in
                    try posix("\(display): create") { openat(fd, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
                })
            try spill.copy(data, to: file.raw, display: display)
            try finish(inode.metadata, fd: file.raw, path: path)
            try file.close("\(display): close")
            summary.dataBytes += data.size
        case .symlink(let target):
            _ = try target.withCName { t in
                try name.withCName { n in try posix("\(display): symlink") { symlinkat(t, fd, n) } }
            }
            try finish(inode.metadata, named: name, in: fd, path: path, setMode: false)
        case .characterDevice(let major, let minor), .blockDevice(let major, let minor):
            if rootless {
                skipped.insert(ObjectIdentifier(inode))
                summary.skippedDevices.append(display)
                return
            }
            let type = if case .characterDevice = inode.content { S_IFCHR } else { S_IFBLK }
            try makeNode(name, in: fd, mode: type, device: linux_makedev(major, minor), display: display)
            try finish(inode.metadata, named: name, in: fd, path: path, setMode: true)
        case .fifo:
            try makeNode(name, in: fd, mode: S_IFIFO, device: 0, display: display)
            try finish(inode.metadata, named: name, in: fd, path: path, setMode: true)
        case .socket:
            try makeNode(name, in: fd, mode: S_IFSOCK, device: 0, display: display)
            try finish(inode.metadata, named: name, in: fd, path: path, setMode: true)
        }
        if inode.linkCount > 1 { written[ObjectIdentifier(inode)] = path }
        summary.files += 1
    }

    private func makeNode(_ name: [UInt8], in fd: Int32, mode: mode_t, device: UInt64, display: @autoclosure () -> String) throws {
        _ = try name.withCName { n in try posix("\(display()): mknod") { mknodat(fd, n, mode | 0o600, dev_t(device)) } }
    }

    /// A further name for an inode already written: linkat from its first name's directory,
    /// opened beneath the rootfs without following symlinks.
    private func link(_ first: [[UInt8]], as name: [UInt8], in fd: Int32, path: [[UInt8]]) throws {
        var display: String { displayPath(path) }
        let parent = try OwnedDescriptor.directory(beneath: root, first.dropLast(), "\(display): open \(displayPath(first.dropLast()))")
        _ = try first.last!.withCName { from in
            try name.withCName { to in
                try posix("\(display): link to \(displayPath(first))") { linkat(parent.raw, from, fd, to, 0) }
            }
        }
        summary.files += 1
    }

    /// A name must be one directory entry: Flatten guarantees it; checked again here because
    /// this is where a bad name would reach the host.
    static func check(_ name: [UInt8], _ path: [[UInt8]]) throws {
        guard !name.isEmpty, name != [UInt8(ascii: ".")], name != [UInt8(ascii: "."), UInt8(ascii: ".")],
            !name.contains(UInt8(ascii: "/")), !name.contains(0)
        else { throw BundleError.unsafeName(displayPath(path)) }
    }

    // MARK: - Metadata

    /// Owner, xattrs, mode, times on an open file or directory.
    private func finish(_ metadata: Metadata, fd: Int32, path: [[UInt8]]) throws {
        var display: String { displayPath(path) }
        if !rootless { try posix("\(display): chown") { fchown(fd, metadata.uid, metadata.gid) } }
        for xattr in metadata.xattrs {
            let result = xattr.value.withUnsafeBytes { fsetxattr(fd, xattr.name, $0.baseAddress, $0.count, 0) }
            try xattrResult(result, xattr.name, display)
        }
        try posix("\(display): chmod") { fchmod(fd, mode_t(metadata.permissions)) }
        var times = Self.times(metadata)
        try posix("\(display): set times") { futimens(fd, &times) }
    }

    /// The same for a symlink, device, fifo or socket, by name in its directory (never followed).
    private func finish(_ metadata: Metadata, named name: [UInt8], in fd: Int32, path: [[UInt8]], setMode: Bool) throws {
        var display: String { displayPath(path) }
        try name.withCName { n in
            if !rootless {
                try posix("\(display): chown") { fchownat(fd, n, metadata.uid, metadata.gid, AT_SYMLINK_NOFOLLOW) }
            }
            if !metadata.xattrs.isEmpty {
                // No lsetxattrat: reach the entry through our own directory descriptor; the
                // last component (the entry itself) is not followed.
                let procPath = Array("/proc/self/fd/\(fd)/".utf8) + name
                try procPath.withCName { p in
                    for xattr in metadata.xattrs {
                        let result = xattr.value.withUnsafeBytes { lsetxattr(p, xattr.name, $0.baseAddress, $0.count, 0) }
                        try xattrResult(result, xattr.name, display)
                    }
                }
            }
            // glibc does AT_SYMLINK_NOFOLLOW for non-symlinks through an O_PATH descriptor.
            if setMode { try posix("\(display): chmod") { fchmodat(fd, n, mode_t(metadata.permissions), AT_SYMLINK_NOFOLLOW) } }
            var times = Self.times(metadata)
            try posix("\(display): set times") { utimensat(fd, n, &times, AT_SYMLINK_NOFOLLOW) }
        }
    }

    private func xattrResult(_ result: Int32, _ name: String, _ display: @autoclosure () -> String) throws {
        guard result != 0 else { return }
        let code = errno
        if rootless && [EPERM, EACCES, ENOTSUP].contains(code) {
            summary.skippedXattrs.append("\(display()): \(name)")
            return
        }
        throw BundleError.system("\(display()): set xattr \(name)", code)
    }

    /// atime = mtime: the tree keeps one time.
    private static func times(_ metadata: Metadata) -> [timespec] {
        let time = timespec(tv_sec: Int(metadata.mtimeSeconds), tv_nsec: Int(metadata.mtimeNanoseconds))
        return [time, time]
    }
}
