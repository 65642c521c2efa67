import Boot
import Foundation
import LinuxKernel
@testable import Runner
import Testing

/// The uncompressed kernel `run` boots through QEMU's PVH entry, checked on the real kernel
/// package scripts/setup downloads (Debian's cloud kernel: LZ4 payload, CONFIG_PVH).
@Suite struct PVHKernelTests {
    /// Read once for the suite: unpacking the package's xz data takes seconds in a debug build.
    static let kernel = Result { () throws -> [UInt8] in
        let package = try #require(
            KernelSources.defaultPackage(environment: ProcessInfo.processInfo.environment), "scripts/setup downloads the default kernel package")
        return try KernelPackage.read(package, platform: .linuxAMD64, scratchDirectory: NSTemporaryDirectory()).image
    }

    static func realKernel() throws -> [UInt8] { try kernel.get() }
    static let hasKernel = KernelSources.defaultPackage(environment: ProcessInfo.processInfo.environment) != nil

    @Test(.enabled(if: Self.hasKernel, "needs the kernel package scripts/setup downloads")) func uncompressesTheRealKernelIntoAnELFWithThePVHNote() throws {
        let vmlinux = try KernelPayload.uncompressed(try Self.realKernel())
        #expect(vmlinux.starts(with: [0x7F, 0x45, 0x4C, 0x46, 2]))
        #expect(vmlinux.count > 20 << 20, "the uncompressed kernel is several times the bzImage")
        #expect(KernelPayload.hasPVHEntry(vmlinux))
    }

    @Test(.enabled(if: Self.hasKernel, "needs the kernel package scripts/setup downloads")) func aDamagedPayloadIsRefused() throws {
        var image = try Self.realKernel()
        let start = (Int(image[0x1F1]) + 1) * 512 + Int(image[0x248]) | Int(image[0x249]) << 8
        for offset in stride(from: start + 4096, to: start + 8192, by: 7) { image[offset] ^= 0x5A }
        #expect(throws: (any Error).self) { try KernelPayload.uncompressed(image) }
    }

    @Test func notABzImage() {
        #expect(throws: KernelPayload.Failure.notBzImage("not a Linux kernel image")) { try KernelPayload.uncompressed([UInt8](repeating: 0, count: 4096)) }
    }

    @Test func anELFWithoutTheNoteIsNotPVH() throws {
        let other = try #require(FileManager.default.contents(atPath: "/bin/true"))
        #expect(!KernelPayload.hasPVHEntry([UInt8](other)))
        #expect(!KernelPayload.hasPVHEntry(Array("\u{7F}ELF but truncated".utf8)))
    }

    @Test(.enabled(if: Self.hasKernel, "needs the kernel package scripts/setup downloads")) func theCacheIsFilledOnceAndReused() throws {
        let folder = NSTemporaryDirectory() + "pvh-cache-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let bzImage = folder + "/vmlinuz"
        try Data(try Self.realKernel()).write(to: URL(fileURLWithPath: bzImage))
        let first = try #require(PVHKernel.cachedUncompressed(bzImage: bzImage, cacheDirectory: folder))
        let written = try FileManager.default.attributesOfItem(atPath: first)[.modificationDate] as? Date
        let second = PVHKernel.cachedUncompressed(bzImage: bzImage, cacheDirectory: folder)
        #expect(second == first)
        #expect(try FileManager.default.attributesOfItem(atPath: first)[.modificationDate] as? Date == written)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder + "/kernels") == [URL(fileURLWithPath: first).lastPathComponent],
            "no temporary file is left beside the cache entry")
        // A file that is not a kernel gets no cache entry: the bzImage is booted as it is.
        let notKernel = folder + "/not-a-kernel"
        try Data("text".utf8).write(to: URL(fileURLWithPath: notKernel))
        #expect(PVHKernel.cachedUncompressed(bzImage: notKernel, cacheDirectory: folder) == nil)
    }
}
