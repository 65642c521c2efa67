import Boot
import Disk
import Flatten
import Foundation
import ImageSource
import OCIModels

/// Everything the boot partition and the MBR's boot code will hold.
struct BootArtifacts {
    let mode: InitConfig.Mode
    let kernel: String
    /// The boot partition's files: kernel, initramfs, bootloader config.
    let files: [(name: String, bytes: [UInt8])]
    let mbrCode: [UInt8]
}

/// Chooses the kernel and init mode, builds the initramfs and the boot partition's files.
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
        let bootloaderConfig = try Syslinux.config(commandLine: cmdline, kernelVersion: kernel.version)
        let files = [("vmlinuz", kernel.image), ("initrd.img", [UInt8](initramfs)), ("syslinux.cfg", Array(bootloaderConfig.utf8))]
        return BootArtifacts(mode: mode, kernel: kernel.version, files: files, mbrCode: try Syslinux.mbrCode())
    }
}
