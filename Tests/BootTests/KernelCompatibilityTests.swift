import Boot
import Foundation
import LinuxKernel
import OCIModels
import Testing

/// The checks that make a disk that cannot boot an error at convert time, on the real kernel
/// package scripts/setup downloads (skipped, with the reason, where there is none).
@Suite(.enabled(if: KernelSources.defaultPackage(environment: ProcessInfo.processInfo.environment) != nil, "needs the kernel package scripts/setup downloads"))
struct KernelCompatibilityTests {
    static let package = KernelSources.defaultPackage(environment: ProcessInfo.processInfo.environment) ?? ""
    // Read once for the suite and only read after: unpacking the package takes seconds.
    nonisolated(unsafe) static let kernel = Result { try KernelPackage.read(package, platform: .linuxAMD64, scratchDirectory: NSTemporaryDirectory()) }

    @Test func debiansCloudKernelIsAnX86_64BzImageNamingItsRelease() throws {
        let kernel = try Self.kernel.get()
        let image = try KernelCompatibility.checkImage(kernel.image, origin: "vmlinuz", platform: .linuxAMD64)
        #expect(image.release == kernel.version)
        try KernelCompatibility.checkRequiredDrivers(of: kernel)
    }

    @Test func thePackageIsRefusedForAnotherPlatform() throws {
        let arm64 = Platform(os: "linux", architecture: "arm64")
        #expect(throws: BootError.architectureMismatch(kernel: Self.package, kernelArchitecture: "a package for amd64", platform: "linux/arm64")) {
            _ = try KernelPackage.read(Self.package, platform: arm64, scratchDirectory: NSTemporaryDirectory())
        }
    }

    @Test func withoutModulesTheDriversMustBeBuiltIn() throws {
        // Debian builds virtio_pci and virtio_blk as modules: its bzImage alone cannot reach the disk.
        let packaged = try Self.kernel.get()
        let loose = Kernel(version: packaged.version, image: packaged.image, modules: packaged.modules, origin: "vmlinuz", hasModuleTree: false)
        #expect(throws: BootError.driverNotBuiltIn(name: "virtio_blk", kernel: "vmlinuz")) { try KernelCompatibility.checkRequiredDrivers(of: loose) }
    }
}

@Suite struct PlatformSupportTests {
    @Test func onlyLinuxAMD64Boots() throws {
        try KernelCompatibility.checkPlatform(.linuxAMD64)
        try KernelCompatibility.checkPlatform(Platform(os: "linux", architecture: "amd64", variant: "v3"))
        #expect(throws: BootError.unsupportedPlatform(platform: "linux/arm64/v8", supported: ["linux/amd64"])) {
            try KernelCompatibility.checkPlatform(Platform(os: "linux", architecture: "arm64", variant: "v8"))
        }
    }
}
