#if canImport(Glibc)
import Glibc
#endif

/// Deletes a tree (an unfinished bundle, or the one `--force` replaces) by names relative to
/// directory descriptors: a symlink inside is removed, never followed. Directories the
/// caller owns but may not write (a rootless bundle's 0555 folders) are opened up first.
enum TreeRemover {
    static func remove(_ name: [UInt8], in parent: Int32, display: String) throws {
        var info = stat()
        let found = name.withCName { fstatat(parent, $0, &info, AT_SYMLINK_NOFOLLOW) }
        if found != 0 {
            if errno == ENOENT { return }
            throw BundleError.system("\(display): stat", errno)
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            if info.st_mode & 0o700 != 0o700 {
                _ = name.withCName { fchmodat(parent, $0, 0o700, AT_SYMLINK_NOFOLLOW) }
            }
            let directory = try Descriptor.directory(name, in: parent, "\(display): open")
            for child in try entries(of: directory.raw, display: display) {
                try remove(child, in: directory.raw, display: display + "/" + String(decoding: child, as: UTF8.self))
            }
            _ = try name.withCName { n in try posix("\(display): remove") { unlinkat(parent, n, AT_REMOVEDIR) } }
        } else {
            _ = try name.withCName { n in try posix("\(display): remove") { unlinkat(parent, n, 0) } }
        }
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
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == [UInt8(ascii: ".")] || name == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            names.append(name)
        }
        return names
    }
}
