import GuestContract
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
    /// What the user should know about a disk that will boot but may not do what they expect.
    let warnings: [String]
}

/// Chooses the kernel and init mode, builds the initramfs and the boot partition's files.
enum BootPreparation {
    /// The kernel the user named (`--kernel-package`, `--kernel`), read and checked against the
    /// image's platform before any layer is read: a disk that cannot boot is refused up front.
    /// nil when the kernel is chosen later (the image's own, or the default package).
    static func givenKernel(_ options: BootOptions, platform: Platform, registry: RegistryOptions, scratch: String) throws -> BootKernel? {
        if options.kernel == .none { return nil }
        try KernelCompatibility.checkPlatform(platform)
        switch options.kernel {
        case .none, .automatic: return nil
        case .package(let path): return try packageKernel(path, options: options, platform: platform, scratch: scratch)
        case .files(let image, let modules):
            let kernel = try KernelSources.files(kernel: image, modules: modules, platform: platform, scratchDirectory: scratch)
            return try Initramfs.prepare(kernel, initBinary: try options.assets.guestInit.load(), scratch: scratch)
        case .image(let reference):
            let kernel = try KernelImage.read(reference, platform: platform, registry: registry, scratch: scratch)
            return try Initramfs.prepare(kernel, initBinary: try options.assets.guestInit.load(), scratch: scratch)
        }
    }

    /// A package's kernel through the boot-parts cache when there is one (the default):
    /// decompressing the package is most of a bootable convert, and its result is the same
    /// for every image.
    static func packageKernel(_ path: String, options: BootOptions, platform: Platform, scratch: String) throws -> BootKernel {
        let initBinary = try options.assets.guestInit.load()
        if let cache = options.partsCache {
            return try BootPartsCache(directory: cache).kernel(package: path, platform: platform, initBinary: initBinary, scratch: scratch)
        }
        return try Initramfs.prepare(try KernelPackage.read(path, platform: platform, scratchDirectory: scratch), initBinary: initBinary, scratch: scratch)
    }

    static func prepare(
        _ options: BootOptions, givenKernel: BootKernel?, image: ResolvedImage, root tree: FileTree, spill: SpillFile,
        rootUUID: String, scratch: String
    ) throws -> BootArtifacts? {
        if options.kernel == .none { return nil }
        let platform = image.config.platform
        let hasInitSystem = ["sbin/init", "lib/systemd/systemd", "usr/lib/systemd/systemd"].contains { tree.resolve($0) != nil }
        let imageKernel: Kernel? =
            options.kernel == .automatic && options.mode != .app && hasInitSystem
            ? try KernelSources.fromImage(tree, spill: spill, platform: platform, scratchDirectory: scratch) : nil
        let mode = options.mode ?? (hasInitSystem && imageKernel != nil ? .system : .app)

        let kernel: BootKernel
        if let givenKernel {
            kernel = givenKernel
        } else if let imageKernel {
            kernel = try Initramfs.prepare(imageKernel, initBinary: try options.assets.guestInit.load(), scratch: scratch)
        } else if let package = options.assets.defaultKernelPackage {
            kernel = try packageKernel(package, options: options, platform: platform, scratch: scratch)
        } else {
            throw BootError.noKernel(
                "none given and none in \(options.assets.kernelDirectory): run `oci2disk fetch-kernel` to download Debian's cloud kernel, "
                    + "or pass --kernel-package linux-image-….deb, --kernel vmlinuz, or --no-kernel for a data disk")
        }
        // The UUID was formatted from the 16 bytes the ext4 writer got, so it always parses.
        var config = InitConfig(mode: mode, rootUUID: UUID16(parsing: rootUUID))
        config.apply(image: image.config.config, overrides: options.overrides)
        config.growRoot = options.growRoot
        var warnings: [String] = []
        switch mode {
        case .system: try ImagePrograms.checkSystemInit(config.systemInit, in: tree)
        case .app:
            // Base and data images often have no command: the disk is still useful, as
            // `run DISK -- COMMAND` gives one at boot. Booted without, it exits 127.
            if config.arguments.isEmpty {
                warnings.append(
                    "the image has no Entrypoint or Cmd: give the command with --cmd '[\"/bin/sh\"]' now, or at boot with `oci2disk run DISK -- COMMAND…`; booted without one, the disk stops with exit status 127"
                )
            } else if let warning = ImagePrograms.missingCommandWarning(config, in: tree) {
                warnings.append(warning)
            }
        }
        let initramfs = try Initramfs.complete(kernel, config: config, scratch: scratch).bytes

        let cmdline = try options.assets.templates.render("cmdline.txt", ["append": options.append]).trimmingCharacters(in: .whitespacesAndNewlines)
        let bootloaderConfig = try Syslinux.config(commandLine: cmdline, kernelVersion: kernel.version, templates: options.assets.templates)
        let files = [
            (BootPartitionLayout.kernel, kernel.image), (BootPartitionLayout.initramfs, initramfs),
            (BootPartitionLayout.bootloaderConfig, Array(bootloaderConfig.utf8))
        ]
        return BootArtifacts(mode: mode, kernel: kernel.version, files: files, mbrCode: try Syslinux.mbrCode(), warnings: warnings)
    }
}
