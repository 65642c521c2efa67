import SystemBase
import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// The bundle folder under construction: a private (0700) temporary folder beside the target,
/// moved into place only when complete. A failed or interrupted run removes it and leaves
/// the target as it was. An existing non-empty target is refused unless `force`; with it,
/// the finished bundle is swapped in atomically and the old tree removed afterwards.
public final class BundleOutput {
    public let target: String
    /// The folder the target lives in (and the temporary folder, and the spill file).
    public let parentPath: String
    private let name: [UInt8]
    private let parent: OwnedDescriptor
    private let force: Bool
    private var temporaryName: [UInt8]?
    private var committed = false

    public init(target: String, force: Bool) throws {
        self.target = target
        self.force = force
        // Split by hand: URL would resolve "." and ".." against the working directory.
        var trimmed = target
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        let slash = trimmed.lastIndex(of: "/")
        let last = slash.map { String(trimmed[trimmed.index(after: $0)...]) } ?? trimmed
        guard !last.isEmpty, last != ".", last != ".." else { throw BundleError.invalidOutput(target) }
        name = Array(last.utf8)
        parentPath = slash.map { $0 == trimmed.startIndex ? "/" : String(trimmed[..<$0]) } ?? "."
        // The caller's own path: symlinks in it are the caller's to follow.
        let fd = parentPath.withCString { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { throw BundleError.system("\(target): directory \(parentPath)", errno) }
        parent = OwnedDescriptor(adopting: fd)
        try checkExisting()
    }

    deinit { discard() }

    /// Refuses an existing target that `force` would be needed for.
    private func checkExisting() throws {
        guard !force else { return }
        var info = stat()
        guard name.withCName({ fstatat(parent.raw, $0, &info, AT_SYMLINK_NOFOLLOW) }) == 0 else {
            if errno == ENOENT { return }
            throw BundleError.system(target, errno)
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw BundleError.outputNotDirectory(target) }
        let existing = try OwnedDescriptor.directory(name, in: parent.raw, target)
        guard try TreeRemover.entries(of: existing.raw, display: target).isEmpty else { throw BundleError.outputNotEmpty(target) }
    }

    /// Makes the temporary folder and returns a descriptor on it.
    func create() throws -> Int32 {
        try checkExisting()
        var template = Array("\(parentPath)/.".utf8) + name + Array(".oci2disk-XXXXXX".utf8) + [0]
        let made = template.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { mkdtemp($0.baseAddress!) }
        }
        guard made != nil else { throw BundleError.system("\(target): cannot create a temporary directory in \(parentPath)", errno) }
        let temporary = Array(template.dropLast().split(separator: UInt8(ascii: "/")).last!)
        temporaryName = temporary
        return try posix("\(target): open temporary directory") {
            temporary.withCName { openat(parent.raw, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        }
    }

    /// Moves the finished folder into place: over nothing or an empty folder by rename;
    /// with `force`, swapped with whatever is there (RENAME_EXCHANGE), which is then removed.
    func commit() throws {
        guard let temporary = temporaryName else { return }
        if force {
            if rename(temporary, to: name, exchange: true) == 0 {
                committed = true
                // The old tree now has the temporary name.
                try removeReplaced(temporary)
                return
            }
            let code = errno
            if code == EINVAL {
                // No RENAME_EXCHANGE on this filesystem: move the old tree aside first.
                let aside = temporary + Array(".old".utf8)
                try posix("\(target): cannot move it aside") { rename(name, to: aside) }
                guard rename(temporary, to: name) == 0 else {
                    let code = errno
                    _ = rename(aside, to: name)
                    throw BundleError.system("\(target): cannot move the finished bundle into place", code)
                }
                committed = true
                try removeReplaced(aside)
                return
            }
            guard code == ENOENT else { throw BundleError.system("\(target): cannot replace it", code) }
        }
        guard rename(temporary, to: name) == 0 else {
            let code = errno
            if code == ENOTEMPTY || code == EEXIST { throw BundleError.outputNotEmpty(target) }
            if code == ENOTDIR || code == EISDIR { throw BundleError.outputNotDirectory(target) }
            throw BundleError.system("\(target): cannot move the finished bundle into place", code)
        }
        committed = true
    }

    private func rename(_ from: [UInt8], to: [UInt8], exchange: Bool = false) -> Int32 {
        from.withCName { from in
            to.withCName { to in
                exchange ? linux_rename_exchange(parent.raw, from, parent.raw, to) : renameat(parent.raw, from, parent.raw, to)
            }
        }
    }

    /// The tree `force` replaced, already out of the way.
    private func removeReplaced(_ old: [UInt8]) throws {
        let path = parentPath + "/" + String(decoding: old, as: UTF8.self)
        do {
            try TreeRemover.remove(old, in: parent.raw, display: path)
        } catch {
            throw BundleError.replacedTreeLeft(output: target, leftover: path, reason: "\(error)")
        }
    }

    /// Removes the unfinished folder (best effort: called on every failure path).
    public func discard() {
        guard !committed, let temporary = temporaryName else { return }
        committed = true
        try? TreeRemover.remove(temporary, in: parent.raw, display: String(decoding: temporary, as: UTF8.self))
    }
}
