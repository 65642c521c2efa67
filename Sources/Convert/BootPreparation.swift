import Archive
import Boot
import Disk
import Ext4
import Flatten
import Foundation
import ImageSource
import OCIModels

/// Everything the boot partition and the MBR gap will hold.
struct BootArtifacts {
    let mode: InitConfig.Mode
    let kernel: String
    /// Kernel, initramfs and GRUB's config, as a tree for the ext4 writer.
    let tree: FileTree
    let grub: Grub.Images
}

/// Chooses the kernel and init mode, builds the initramfs and the boot partition's tree.
enum BootPreparation {
    static func prepare(_ options: BootOptions, image: ResolvedImage, root tree: FileTree, spill: SpillFile, rootUUID: String,
                        scratch: String) throws -> BootArtifacts? {
        if options.kernel == .none { return nil }
        let hasInitSystem = ["sbin/init", "lib/systemd/systemd", "usr/lib/systemd/systemd"].contains { tree.resolve($0) != nil }
        let imageKernel: Kernel? = options.kernel == .automatic && options.mode != .app && hasInitSystem
            ? try KernelSources.fromImage(tree, spill: spill, scratchDirectory: scratch) : nil
        let mode = options.mode ?? (hasInitSystem && imageKernel != nil ? .system : .app)

        let kernel: Kernel
        switch options.kernel {
        case .none: return nil
        case .package(let path): kernel = try KernelPackage.read(path, scratchDirectory: scratch)
        case .files(let image, let modules): kernel = try KernelSources.files(kernel: image, modules: modules, scratchDirectory: scratch)
        case .automatic:
            if let imageKernel {
                kernel = imageKernel
            } else if let package = KernelSources.defaultPackage() {
                kernel = try KernelPackage.read(package, scratchDirectory: scratch)
            } else {
                throw BootError.noKernel("none given and none in \(KernelSources.defaultKernelDirectory()); run scripts/setup to download Debian's cloud kernel, "
                                         + "or pass --kernel-package linux-image-….deb, --kernel vmlinuz, or --no-kernel for a data disk")
            }
        }

        var config = InitConfig(mode: mode, rootUUID: rootUUID)
        config.apply(image: image.config.config, overrides: options.overrides)
        if mode == .app && config.arguments.isEmpty {
            throw BootError.io("the image has no Entrypoint or Cmd to run: give one with --cmd or --entrypoint, or use --init system")
        }
        // An unpredictable name, removed on Ctrl-C too: the output folder may be shared.
        let initramfsPath = scratch + "/.oci2disk-initrd-\(UUID().uuidString)"
        TemporaryFiles.shared.add(initramfsPath)
        defer {
            unlink(initramfsPath)
            TemporaryFiles.shared.remove(initramfsPath)
        }
        _ = try Initramfs.write(to: initramfsPath, kernel: kernel, initBinary: try KernelSources.initBinary(), config: config)
        guard let initramfs = FileManager.default.contents(atPath: initramfsPath) else { throw BootError.io("\(initramfsPath): cannot read back") }

        let cmdline = try Templates.render("cmdline.txt", ["append": options.append]).trimmingCharacters(in: .whitespacesAndNewlines)
        let grubConfig = try Templates.render("grub.cfg", ["cmdline": cmdline, "kernel_version": kernel.version])
        let bootTree = FileTree(defaultTime: tree.defaultTime)
        let applier = LayerApplier(tree: bootTree, spill: spill)
        applier.beginLayer(0)
        for (path, bytes) in [("vmlinuz", kernel.image), ("initrd.img", [UInt8](initramfs)), ("boot/grub/grub.cfg", Array(grubConfig.utf8))] {
            let entry = ArchiveEntry(path: Array(path.utf8), kind: .regular, permissions: 0o644, size: Int64(bytes.count), mtimeSeconds: tree.defaultTime)
            try applier.apply(entry, data: InMemoryData(bytes))
        }
        let grub = try Grub.images(scratchDirectory: scratch, maxCoreBytes: Int(ConvertOptions.partitionOffset) - 512)
        return BootArtifacts(mode: mode, kernel: kernel.version, tree: bootTree, grub: grub)
    }
}

/// Bytes in memory handed to the layer applier as one entry's data.
final class InMemoryData: EntryData {
    private let storage: UnsafeMutableRawBufferPointer
    private var done = false

    init(_ bytes: [UInt8]) {
        storage = .allocate(byteCount: max(bytes.count, 1), alignment: 16)
        storage.copyBytes(from: bytes)
        count = bytes.count
    }

    private let count: Int

    deinit { storage.deallocate() }

    func nextBlock() throws -> (offset: Int64, bytes: UnsafeRawBufferPointer)? {
        guard !done, count > 0 else { return nil }
        done = true
        return (0, UnsafeRawBufferPointer(rebasing: storage[0..<count]))
    }
}
