import Archive
import Foundation

/// Writes the initramfs in-process: a gzip'd newc cpio holding the init, its config and the
/// kernel modules it loads, plus the few nodes the kernel needs before /dev is mounted.
public enum Initramfs {
    /// Modules a virtio disk, network and console need, and ext4's pieces on kernels that build
    /// them as modules (Debian's generic kernel); absent or built-in names are skipped.
    public static let wantedModules = ["virtio_pci", "virtio_blk", "virtio_net", "virtio_console", "ext4", "crc32c_generic"]
    /// Without these the root disk cannot be reached at all.
    public static let requiredModules: Set<String> = ["virtio_pci", "virtio_blk"]
    /// Wanted, but the disk boots without them.
    public static var optionalModules: Set<String> { Set(wantedModules).subtracting(requiredModules) }

    public static func write(to path: String, kernel: Kernel, initBinary: [UInt8], config: InitConfig) throws -> InitConfig {
        let modules = try kernel.modules.closure(of: wantedModules, optional: optionalModules, kernel: kernel.version)
        var config = config
        config.modules = modules.map { "/lib/modules/\(kernel.version)/\($0.relativePath)" }

        let writer = try ArchiveWriter(cpioAt: path, compression: .gzip)
        for directory in ["dev", "proc", "sys", "newroot", "oci2disk", "lib", "lib/modules", "lib/modules/\(kernel.version)"] {
            try writer.directory(directory)
        }
        // The kernel opens /dev/console for init's stdio before anything mounts devtmpfs.
        try writer.characterDevice("dev/console", permissions: 0o600, major: 5, minor: 1)
        var made: Set<String> = []
        for module in modules {
            var directory = "lib/modules/\(kernel.version)"
            for part in module.relativePath.split(separator: "/").dropLast() {
                directory += "/\(part)"
                if made.insert(directory).inserted { try writer.directory(directory) }
            }
            try writer.file("lib/modules/\(kernel.version)/\(module.relativePath)", data: try kernel.modules.bytes(of: module))
        }
        try writer.file("oci2disk/config", data: Array(config.render().utf8))
        try writer.file("init", permissions: 0o755, data: initBinary)
        try writer.finish()
        return config
    }
}
