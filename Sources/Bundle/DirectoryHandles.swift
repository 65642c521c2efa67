import CLinux
import SystemBase
#if canImport(Glibc)
import Glibc
#endif

/// The two ways the bundle writer opens folders: one name inside a folder, or a path beneath
/// the bundle's root, never following a symlink.
extension OwnedDescriptor {
    /// Opens the directory `name` inside `parent` without following a symlink there.
    static func directory(_ name: [UInt8], in parent: Int32, _ what: @autoclosure () -> String) throws -> OwnedDescriptor {
        let fd = try name.withCName { name in
            try posix(what()) { openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        }
        return OwnedDescriptor(adopting: fd)
    }

    /// An O_PATH handle (enough for linkat; needs no read permission) on the directory at
    /// `components` under `root`, without following any symlink and without leaving `root`:
    /// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), or, where the kernel lacks it (or the
    /// path is longer than PATH_MAX), one O_NOFOLLOW step per name.
    static func directory(beneath root: Int32, _ components: ArraySlice<[UInt8]>, _ what: @autoclosure () -> String) throws -> OwnedDescriptor {
        let flags = linux_o_path() | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
        if components.isEmpty { return OwnedDescriptor(adopting: try posix(what()) { fcntl(root, F_DUPFD_CLOEXEC, 0) }) }
        let path = Array(components.joined(separator: [UInt8(ascii: "/")]))
        let fd = path.withCName { linux_openat_beneath(root, $0, flags, 0) }
        if fd >= 0 { return OwnedDescriptor(adopting: fd) }
        let code = errno
        guard code == ENOSYS || code == ENAMETOOLONG || code == EPERM else { throw BundleError.system(what(), code) }
        var current = OwnedDescriptor(adopting: try posix(what()) { fcntl(root, F_DUPFD_CLOEXEC, 0) })
        for name in components {
            let next = try name.withCName { n in try posix(what()) { openat(current.raw, n, flags) } }
            current = OwnedDescriptor(adopting: next)
        }
        return current
    }
}

extension Array where Element == UInt8 {
    /// The bytes as a NUL-terminated C string (names may hold any byte but `/` and NUL).
    func withCName<R>(_ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        try (self + [0]).withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }
}

/// An image path for messages: `/` + the components (invalid UTF-8 shown replaced).
func displayPath(_ components: some Collection<[UInt8]>) -> String {
    "/" + components.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/")
}
