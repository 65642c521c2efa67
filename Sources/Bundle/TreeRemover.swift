import SystemBase
#if canImport(Glibc)
import Glibc
#endif

/// Deletes a tree (an unfinished bundle, or the one `--force` replaces) by names relative to
/// directory descriptors: a symlink inside is removed, never followed. Directories the
/// caller owns but may not write (a rootless bundle's 0555 folders) are opened up first.
enum TreeRemover {
    ///
    /// Depth first without recursion (a folder per frame, its descriptor held until it is
    /// empty): no tree's depth can overflow the stack.
    static func remove(_ name: [UInt8], in parent: Int32, display: String) throws {
        guard let isDirectory = try kind(of: name, in: parent, display: display) else { return }
        guard isDirectory else {
            _ = try name.withCName { n in try posix("\(display): remove") { unlinkat(parent, n, 0) } }
            return
        }
        struct Frame {
            let fd: Int32
            let names: [[UInt8]]
            var next = 0
            let name: [UInt8]
            let display: String
        }
        func enter(_ name: [UInt8], in parent: Int32, display: String) throws -> Frame {
            let fd = try OwnedDescriptor.directory(name, in: parent, "\(display): open").release()
            do { return Frame(fd: fd, names: try entries(of: fd, display: display), name: name, display: display) } catch {
                close(fd)
                throw error
            }
        }
        var frames = [try enter(name, in: parent, display: display)]
        defer { for frame in frames { close(frame.fd) } }
        while let last = frames.last {
            guard last.next < last.names.count else {
                frames.removeLast()
                close(last.fd)
                let above = frames.last?.fd ?? parent
                _ = try last.name.withCName { n in try posix("\(last.display): remove") { unlinkat(above, n, AT_REMOVEDIR) } }
                continue
            }
            frames[frames.count - 1].next += 1
            let child = last.names[last.next]
            let childDisplay = last.display + "/" + String(decoding: child, as: UTF8.self)
            switch try kind(of: child, in: last.fd, display: childDisplay) {
            case nil: continue
            case true?: frames.append(try enter(child, in: last.fd, display: childDisplay))
            case false?: _ = try child.withCName { n in try posix("\(childDisplay): remove") { unlinkat(last.fd, n, 0) } }
            }
        }
    }

    /// true: a folder (opened up to 0700 if it was closed to its owner); false: anything else;
    /// nil: gone already.
    private static func kind(of name: [UInt8], in parent: Int32, display: String) throws -> Bool? {
        var info = stat()
        let found = name.withCName { fstatat(parent, $0, &info, AT_SYMLINK_NOFOLLOW) }
        if found != 0 {
            if errno == ENOENT { return nil }
            throw BundleError.system("\(display): stat", errno)
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { return false }
        if info.st_mode & 0o700 != 0o700 {
            _ = name.withCName { fchmodat(parent, $0, 0o700, AT_SYMLINK_NOFOLLOW) }
        }
        return true
    }

    /// Names in a directory, without `.` and `..`.
    static func entries(of fd: Int32, display: String) throws -> [[UInt8]] {
        let copy = try posix("\(display): open") { fcntl(fd, F_DUPFD_CLOEXEC, 0) }
        guard let stream = fdopendir(copy) else {
            close(copy)
            throw BundleError.system("\(display): read directory", errno)
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw BundleError.system("\(display): read directory", errno) }
                break
            }
            // Up to the NUL only: the kernel's record may be shorter than d_name's 256 bytes.
            let start = UnsafeRawPointer(entry) + MemoryLayout.offset(of: \dirent.d_name)!
            let name = Array(UnsafeRawBufferPointer(start: start, count: strnlen(start.assumingMemoryBound(to: CChar.self), 255)))
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            names.append(name)
        }
        return names
    }
}
