import CInitShim
import Glibc

/// Loads the kernel modules the root disk and network need (files in the initramfs).
enum ModuleLoader {
    /// finit_module(2) on each file in order. A module already loaded or built in (EEXIST) is
    /// fine; any other failure is a warning, since a missing disk driver shows up as "no root".
    static func load(_ paths: [String], console: Console) {
        for path in paths {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                console.warn("module \(path): \(errnoText(errno))")
                continue
            }
            if oi_finit_module(fd) != 0 && errno != EEXIST {
                console.warn("module \(path): \(errnoText(errno))")
            }
            close(fd)
        }
    }
}
