import Archive
import Crypto
import Foundation

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
        guard let vmlinux = try? uncompressed([UInt8](bzImage)), hasPVHEntry(vmlinux) else { return nil }
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

    public enum Failure: Error, Equatable {
        case notBzImage(String)
        case sizeMismatch(expected: Int, got: Int)
    }

    /// Decompresses the payload of a bzImage (boot protocol ≥ 2.08: `payload_offset` and
    /// `payload_length` in the setup header). Every kernel compressor (gzip, xz, lz4, zstd,
    /// bzip2, lzma) ends the payload with the uncompressed size as 32-bit little-endian, which
    /// must match what comes out.
    public static func uncompressed(_ image: [UInt8]) throws -> [UInt8] {
        func u16(_ at: Int) -> Int { Int(image[at]) | Int(image[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        guard image.count > 0x250, Array(image[0x202..<0x206]) == Array("HdrS".utf8) else { throw Failure.notBzImage("no setup header") }
        guard u16(0x206) >= 0x0208 else { throw Failure.notBzImage("boot protocol older than 2.08") }
        let setupSectors = image[0x1F1] == 0 ? 4 : Int(image[0x1F1])
        let start = (setupSectors + 1) * 512 + u32(0x248)
        let length = u32(0x24C)
        guard length > 4, start + length <= image.count else { throw Failure.notBzImage("payload outside the file") }
        let payload = Array(image[start..<(start + length)])
        let expected = Int(payload[length - 4]) | Int(payload[length - 3]) << 8 | Int(payload[length - 2]) << 16 | Int(payload[length - 1]) << 24
        // gzip's own trailer ends with that size; the other formats have it appended after the stream.
        let isGzip = payload.starts(with: [0x1F, 0x8B])
        let stream = isGzip ? payload : Array(payload.dropLast(4))
        let reader = try ArchiveReader(source: MemorySource(stream), format: .raw, filter: .kernel, name: "kernel payload")
        var output = [UInt8]()
        output.reserveCapacity(expected)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
            if count == 0 { break }
            output += buffer[0..<count]
            guard output.count <= expected else { throw Failure.sizeMismatch(expected: expected, got: output.count) }
        }
        guard output.count == expected else { throw Failure.sizeMismatch(expected: expected, got: output.count) }
        return output
    }

    /// True for a 64-bit ELF with a `Xen` note of type 18 (XEN_ELFNOTE_PHYS32_ENTRY): what QEMU
    /// looks for before it takes the PVH path.
    public static func hasPVHEntry(_ elf: [UInt8]) -> Bool {
        func u16(_ at: Int) -> Int { Int(elf[at]) | Int(elf[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        func u64(_ at: Int) -> Int { u32(at) | u32(at + 4) << 32 }
        guard elf.count >= 64, elf.starts(with: [0x7F, 0x45, 0x4C, 0x46, 2, 1]) else { return false }
        let headers = u64(0x20), entrySize = u16(0x36), count = u16(0x38)
        guard entrySize >= 56, headers > 0, headers + entrySize * count <= elf.count else { return false }
        for index in 0..<count {
            let header = headers + index * entrySize
            guard u32(header) == 4 else { continue }  // PT_NOTE
            var note = u64(header + 8)
            let end = note + u64(header + 32)
            guard note >= 0, end <= elf.count else { return false }
            while note + 12 <= end {
                let nameSize = u32(note), descriptionSize = u32(note + 4), type = u32(note + 8)
                let name = note + 12
                let next = name + (nameSize + 3) / 4 * 4 + (descriptionSize + 3) / 4 * 4
                guard next <= end else { break }
                if type == 18, nameSize == 4, Array(elf[name..<(name + 4)]) == [0x58, 0x65, 0x6E, 0] { return true }
                note = next
            }
        }
        return false
    }
}
