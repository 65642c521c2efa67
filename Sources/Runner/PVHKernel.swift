import Crypto
import Foundation
import LinuxKernel

/// The uncompressed kernel (vmlinux) inside a bzImage, for QEMU's PVH entry.
///
/// Why: a bzImage decompresses itself in the guest before the kernel proper starts; under
/// software emulation that is about a second of emulated LZ4/XZ code. QEMU boots an ELF kernel
/// carrying the PVH entry note (`CONFIG_PVH`, set in Debian's kernels) directly at that entry,
/// so the host does the decompression once (about 0.1 s) and the result is cached by the
/// bzImage's digest. A kernel without the note, or a bzImage this cannot read, is booted as is.
public enum PVHKernel {
    /// A cached vmlinux with the PVH note for this bzImage, or nil to boot the bzImage.
    public static func cachedUncompressed(bzImage path: String, cacheDirectory: String) -> String? {
        guard let bzImage = FileManager.default.contents(atPath: path) else { return nil }
        let digest = SHA256.hash(data: bzImage).map { String(format: "%02x", $0) }.joined()
        let folder = cacheDirectory + "/kernels"
        let cached = folder + "/vmlinux-pvh-\(digest.prefix(32))"
        if FileManager.default.fileExists(atPath: cached) { return cached }
        guard let vmlinux = try? KernelPayload.uncompressed([UInt8](bzImage)), KernelPayload.hasPVHEntry(vmlinux) else { return nil }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            // Written beside the cache entry and renamed: concurrent runs never see half a kernel.
            let temporary = folder + "/.vmlinux-\(getpid())-\(UUID().uuidString.prefix(8))"
            try Data(vmlinux).write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, cached) == 0 else {
                unlink(temporary)
                return nil
            }
            return cached
        } catch {
            return nil
        }
    }
}
