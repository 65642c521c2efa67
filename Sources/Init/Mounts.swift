import CInitShim
import Glibc

/// mount(2) with the errno kept, plus mount(8)-style option parsing.
enum Mounts {
    static func mount(
        _ source: String, on target: String, type fstype: String?, flags: UInt = 0, data: String? = nil
    ) throws(InitError) {
        let result: Int32
        if let data, !data.isEmpty {
            result = oi_mount(source, target, fstype, flags, data)
        } else {
            result = oi_mount(source, target, fstype, flags, nil)
        }
        guard result == 0 else {
            let what = fstype.map { "\($0) " } ?? ""
            throw .system(operation: "mount \(what)\(source) on", path: target, errno: errno)
        }
    }

    /// Moves a mounted tree (mount --move).
    static func move(_ source: String, to target: String) throws(InitError) {
        guard oi_mount(source, target, nil, oi_ms_move(), nil) == 0 else {
            throw .system(operation: "move mount \(source) to", path: target, errno: errno)
        }
    }

    /// Bind-mounts `source` on `target`.
    static func bind(_ source: String, on target: String) throws(InitError) {
        guard oi_mount(source, target, nil, oi_ms_bind(), nil) == 0 else {
            throw .system(operation: "bind mount \(source) on", path: target, errno: errno)
        }
    }

    /// Unmounts, lazily if the mount is busy. Returns false if both fail.
    @discardableResult
    static func unmount(_ target: String) -> Bool {
        oi_umount(target, 0) == 0 || oi_umount(target, oi_mnt_detach()) == 0
    }

    /// Remounts a mounted filesystem read-only (flushing it).
    static func remountReadOnly(_ target: String) throws(InitError) {
        guard oi_mount("", target, nil, oi_ms_remount() | oi_ms_rdonly(), nil) == 0 else {
            throw .system(operation: "remount read-only", path: target, errno: errno)
        }
    }

    /// True if `path` is the root of a mount (its device differs from its parent's, or it is /).
    static func isMountPoint(_ path: String) -> Bool {
        var own = stat()
        var parent = stat()
        guard stat(path, &own) == 0, stat(path + "/..", &parent) == 0 else {
            return false
        }
        return own.st_dev != parent.st_dev || own.st_ino == parent.st_ino
    }

    /// Splits `noatime,ro,commit=30` into mount flags and the rest (passed to the filesystem).
    static func parseOptions(_ options: String) -> (flags: UInt, data: String) {
        var flags: UInt = 0
        var rest: [Substring] = []
        for option in options.split(separator: ",") {
            switch option {
            case "defaults", "rw": break
            case "ro": flags |= oi_ms_rdonly()
            case "nosuid": flags |= oi_ms_nosuid()
            case "nodev": flags |= oi_ms_nodev()
            case "noexec": flags |= oi_ms_noexec()
            case "sync": flags |= oi_ms_sync()
            case "dirsync": flags |= oi_ms_dirsync()
            case "noatime": flags |= oi_ms_noatime()
            case "nodiratime": flags |= oi_ms_nodiratime()
            case "relatime": flags |= oi_ms_relatime()
            case "strictatime": flags |= oi_ms_strictatime()
            case "lazytime": flags |= oi_ms_lazytime()
            default: rest.append(option)
            }
        }
        return (flags, rest.joined(separator: ","))
    }
}
