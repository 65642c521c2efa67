import GuestContract
import Archive
import Disk
import Foundation

/// A kernel made ready for disks: its image, and the part of the initramfs that does not depend
/// on the image (the modules the disk needs and the init). Built from a `Kernel`, or read from
/// `BootPartsCache`; either way the same bytes.
public struct BootKernel: Sendable, Equatable {
    public let version: String
    public let image: [UInt8]
    /// A gzip'd newc cpio: the nodes the kernel needs before /dev, the modules, the init.
    public let initramfsBase: [UInt8]
    /// Where the modules are in it, in load order (the init config's `module` lines).
    public let modulePaths: [String]
}

/// Writes the initramfs in-process as two gzip'd newc cpio archives, one after the other (the
/// kernel unpacks each in turn): first the image-independent `BootKernel.initramfsBase`, then a
/// small one with the init's config. Only the second is made for every disk.
public enum Initramfs {
    /// Modules a virtio disk, network and console need, and ext4's pieces on kernels that build
    /// them as modules (Debian's generic kernel); absent or built-in names are skipped.
    public static let wantedModules = ["virtio_pci", "virtio_blk", "virtio_net", "virtio_console", "ext4", "crc32c_generic"]
    /// Without these the root disk cannot be reached at all.
    public static let requiredModules: Set<String> = ["virtio_pci", "virtio_blk"]
    /// Wanted, but the disk boots without them.
    public static var optionalModules: Set<String> { Set(wantedModules).subtracting(requiredModules) }

    /// The module closure, the nodes and the init, as the first segment.
    public static func prepare(_ kernel: Kernel, initBinary: [UInt8], scratch: String) throws -> BootKernel {
        let modules = try kernel.modules.closure(of: wantedModules, optional: optionalModules, kernel: kernel.version)
        let base = try cpio(scratch: scratch) { writer in
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
            try writer.file("init", permissions: 0o755, data: initBinary)
        }
        return BootKernel(
            version: kernel.version, image: kernel.image, initramfsBase: base,
            modulePaths: modules.map { "/lib/modules/\(kernel.version)/\($0.relativePath)" })
    }

    /// The whole initramfs for one disk; `config` gets the kernel's module lines.
    public static func complete(_ kernel: BootKernel, config: InitConfig, scratch: String) throws -> (bytes: [UInt8], config: InitConfig) {
        var config = config
        config.modules = kernel.modulePaths
        let rendered = config
        let segment = try cpio(scratch: scratch) { writer in
            try writer.file("oci2disk/config", data: Array(rendered.render().utf8))
        }
        return (kernel.initramfsBase + segment, config)
    }

    /// One gzip'd cpio, written through a private temporary file (libarchive writes to a path).
    private static func cpio(scratch: String, _ fill: (ArchiveWriter) throws -> Void) throws -> [UInt8] {
        // An unpredictable name, removed on Ctrl-C too: the output folder may be shared.
        let path = scratch + "/.oci2disk-initrd-\(UUID().uuidString)"
        TemporaryFiles.shared.add(path)
        defer {
            unlink(path)
            TemporaryFiles.shared.remove(path)
        }
        let writer = try ArchiveWriter(cpioAt: path, compression: .gzip)
        try fill(writer)
        try writer.finish()
        guard let bytes = FileManager.default.contents(atPath: path) else { throw BootError.unreadable(path: path, what: "the initramfs just written") }
        return [UInt8](bytes)
    }
}
