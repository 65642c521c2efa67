import LinuxKernel
import OCIModels

/// What makes a kernel able to boot a disk for an image, checked before anything is written:
/// a disk that cannot boot is an error at convert time, not a hang at boot time.
public enum KernelCompatibility {
    /// What this version boots: an x86-64 bzImage, with the x86-64 guest init.
    public static let supportedPlatforms = [Platform.linuxAMD64]

    /// The image's platform must be one this version can boot at all.
    public static func checkPlatform(_ platform: Platform) throws(BootError) {
        guard supportedPlatforms.contains(where: { platform.os == $0.os && platform.architecture == $0.architecture }) else {
            throw .unsupportedPlatform(platform: platform.description, supported: supportedPlatforms.map(\.description))
        }
    }

    /// The kernel's bytes must be a bzImage for the image's architecture.
    @discardableResult
    public static func checkImage(_ bytes: [UInt8], origin: String, platform: Platform) throws(BootError) -> KernelImage {
        let image: KernelImage
        do { image = try KernelImage(bytes) } catch { throw .notBootableKernel(path: origin, reason: error.description) }
        guard image.architecture.rawValue == platform.architecture else {
            throw .architectureMismatch(kernel: origin, kernelArchitecture: image.summary, platform: platform.description)
        }
        guard case .bzImage = image.kind else {
            throw .notBootableKernel(path: origin, reason: "\(image.summary): this version boots bzImage kernels (what /boot/vmlinuz-* is on x86)")
        }
        return image
    }

    /// A package's `Architecture` must be the image's (`all` carries no kernel).
    public static func checkPackageArchitecture(_ architecture: String, package: String, platform: Platform) throws(BootError) {
        guard architecture == platform.architecture else {
            throw .architectureMismatch(kernel: package, kernelArchitecture: "a package for \(architecture)", platform: platform.description)
        }
    }

    /// Drivers the disk cannot boot without (the root disk behind virtio-pci): in the kernel's
    /// module tree or built in, or, for a kernel given without modules, in the kernel itself.
    public static func checkRequiredDrivers(of kernel: Kernel) throws(BootError) {
        if kernel.hasModuleTree {
            _ = try kernel.modules.closure(of: Initramfs.wantedModules, optional: Initramfs.optionalModules, kernel: kernel.version)
            return
        }
        let vmlinux: [UInt8]
        do { vmlinux = try KernelPayload.uncompressed(kernel.image) } catch {
            throw .notBootableKernel(path: kernel.origin, reason: error.description)
        }
        for name in Initramfs.requiredModules.sorted() where !KernelPayload.namesDriver(name, in: vmlinux) {
            throw .driverNotBuiltIn(name: name, kernel: kernel.origin)
        }
    }
}
