import CInitShim
import Glibc

/// Leaves the initramfs for the root filesystem mounted at `newRoot`: the initramfs root
/// (rootfs) cannot be pivot_root'ed, so this is switch_root's dance: move the API filesystems
/// into the new root, `chdir newRoot; mount --move . /; chroot .; chdir /`, then delete the
/// initramfs files to give their memory back.
enum SwitchRoot {
    /// Filesystems the early boot mounted, carried into the new root.
    static let carriedMounts = ["/dev", "/proc", "/sys"]

    /// `createMountPoints`: make /dev, /proc, /sys in the new root when absent (app mode). When
    /// false (system mode), a mount whose directory is absent is detached instead.
    static func perform(newRoot: String, createMountPoints: Bool, console: Console) throws(InitError) {
        for mountPoint in carriedMounts {
            let target = newRoot + mountPoint
            if createMountPoints && !FileSystem.existsNoFollow(target) {
                try FileSystem.makeDirectory(target, mode: 0o755)
            }
            // lstat, not stat: an absolute symlink here would resolve inside the initramfs.
            if isPlainDirectory(target) {
                try Mounts.move(mountPoint, to: target)
            } else {
                oi_umount(mountPoint, oi_mnt_detach())
            }
        }

        let oldRoot = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard chdir(newRoot) == 0 else {
            throw .system(operation: "chdir", path: newRoot, errno: errno)
        }
        try Mounts.move(".", to: "/")
        guard oi_chroot(".") == 0 else {
            throw .system(operation: "chroot", path: newRoot, errno: errno)
        }
        guard chdir("/") == 0 else {
            throw .system(operation: "chdir", path: "/", errno: errno)
        }
        if oldRoot >= 0 {
            freeInitramfs(oldRoot, console: console)
            close(oldRoot)
        }
    }

    static func isPlainDirectory(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Deletes everything in the old root, which must be a ramfs or tmpfs (never a disk), without
    /// crossing into other mounts.
    static func freeInitramfs(_ root: Int32, console: Console) {
        let ramfsMagic = 0x8584_58f6
        let tmpfsMagic = 0x0102_1994
        let type = oi_fs_type(root)
        var st = stat()
        guard type == ramfsMagic || type == tmpfsMagic, fstat(root, &st) == 0
        else {
            console.warn("initramfs not freed: its root is not a ramfs or tmpfs")
            return
        }
        removeContents(of: root, device: st.st_dev)
    }

    private static func removeContents(of directory: Int32, device: dev_t) {
        let copy = dup(directory)
        guard copy >= 0, let stream = fdopendir(copy) else {
            return
        }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." {
                names.append(name)
            }
        }
        closedir(stream)
        for name in names {
            var st = stat()
            guard fstatat(directory, name, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_dev == device else {
                continue
            }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                let child = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if child >= 0 {
                    removeContents(of: child, device: device)
                    close(child)
                }
                unlinkat(directory, name, AT_REMOVEDIR)
            } else {
                unlinkat(directory, name, 0)
            }
        }
    }
}
