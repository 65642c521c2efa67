import Archive
#if canImport(Glibc)
import Glibc
#endif

/// The kernel proper (a vmlinux ELF) inside a bzImage, decompressed on the host.
public enum KernelPayload {
    /// No kernel compressor shrinks a kernel more than this; a payload trailer that claims
    /// more is crafted, and is refused before anything that size is reserved.
    public static let largestRatio = 32
    /// And no vmlinux is this large (Debian's are about 50 MiB).
    public static let largestSize = 512 << 20

    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case notBzImage(String)
        case implausibleSize(claimed: Int, payload: Int)
        case sizeMismatch(expected: Int, got: Int)
        case decompression(String)

        public var description: String {
            switch self {
            case .notBzImage(let reason): "not a bzImage: \(reason)"
            case .implausibleSize(let claimed, let payload): "the payload claims \(claimed) bytes uncompressed from \(payload) compressed"
            case .sizeMismatch(let expected, let got): "the payload decompressed to \(got) bytes, its trailer says \(expected)"
            case .decompression(let reason): "the payload does not decompress: \(reason)"
            }
        }
    }

    /// Every kernel compressor (gzip, xz, lz4, zstd, bzip2, lzma) ends the payload with the
    /// uncompressed size as 32-bit little-endian, which must match what comes out.
    public static func uncompressed(_ bzImage: [UInt8]) throws(Failure) -> [UInt8] {
        let image: KernelImage
        do { image = try KernelImage(bzImage) } catch { throw .notBzImage(error.description) }
        guard case .bzImage = image.kind, let range = image.payload else { throw .notBzImage("it is \(image.summary)") }
        let payload = Array(bzImage[range])
        let trailer = LittleEndianBytes(payload).u32(payload.count - 4).map(Int.init) ?? 0
        guard trailer > 0, trailer <= largestSize, trailer / largestRatio <= payload.count else {
            throw .implausibleSize(claimed: trailer, payload: payload.count)
        }
        // gzip's own trailer ends with that size; the other formats have it appended after the stream.
        let stream = payload.starts(with: [0x1F, 0x8B]) ? payload : Array(payload.dropLast(4))
        var output = [UInt8]()
        output.reserveCapacity(trailer)
        do {
            let reader = try ArchiveReader(source: MemorySource(stream), format: .raw, filter: .kernel, name: "kernel payload")
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let count = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
                if count == 0 { break }
                guard output.count + count <= trailer else { throw Failure.sizeMismatch(expected: trailer, got: output.count + count) }
                output += buffer[0..<count]
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .decompression("\(error)")
        }
        guard output.count == trailer else { throw .sizeMismatch(expected: trailer, got: output.count) }
        return output
    }

    /// True for a 64-bit ELF with a `Xen` note of type 18 (XEN_ELFNOTE_PHYS32_ENTRY): what QEMU
    /// looks for before it takes the PVH path. Every offset and size is checked against the file.
    public static func hasPVHEntry(_ elf: [UInt8]) -> Bool {
        let bytes = LittleEndianBytes(elf)
        guard elf.starts(with: [0x7F, 0x45, 0x4C, 0x46, 2, 1]), let headers = bytes.u64(0x20).flatMap(Int.init(exactly:)),
            let entrySize = bytes.u16(0x36).map(Int.init), let count = bytes.u16(0x38).map(Int.init),
            entrySize >= 56, headers > 0, headers <= elf.count, (elf.count - headers) / entrySize >= count
        else { return false }
        for index in 0..<count {
            let header = headers + index * entrySize
            guard bytes.u32(header) == 4 else { continue }  // PT_NOTE
            guard let offset = bytes.u64(header + 8).flatMap(Int.init(exactly:)), let size = bytes.u64(header + 32).flatMap(Int.init(exactly:)),
                offset <= elf.count, size <= elf.count - offset
            else { return false }
            var note = offset
            let end = offset + size
            while end - note >= 12, let nameSize = bytes.u32(note).map(Int.init), let descriptionSize = bytes.u32(note + 4).map(Int.init),
                let type = bytes.u32(note + 8)
            {
                let name = note + 12
                let padded = (nameSize + 3) / 4 * 4 + (descriptionSize + 3) / 4 * 4
                guard padded <= end - name else { break }
                if type == 18, nameSize == 4, bytes.slice(name, 4) == [0x58, 0x65, 0x6E, 0] { return true }
                note = name + padded
            }
        }
        return false
    }

    /// Whether a decompressed kernel carries a driver's name. A built-in driver registers under
    /// its module name (`virtio_blk`) or a dashed form (`virtio-pci`), and that string is then
    /// in the kernel's read-only data; a kernel that builds the driver as a module does not hold
    /// it (checked on Debian's kernels). A heuristic that can only err towards "present", which
    /// is what it replaces: before it, every driver was assumed built in.
    public static func namesDriver(_ name: String, in vmlinux: [UInt8]) -> Bool {
        let forms = Set([name, name.replacingUnderscores()]).map { [0] + Array($0.utf8) + [0] }
        return forms.contains { vmlinux.containsSequence($0) }
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String { String(map { $0 == "_" ? "-" : $0 }) }
}

extension Array where Element == UInt8 {
    /// Naive search with a first-byte skip; runs once per driver over ~50 MB.
    fileprivate func containsSequence(_ needle: [UInt8]) -> Bool {
        guard let first = needle.first, needle.count <= count else { return false }
        return withUnsafeBufferPointer { haystack in
            needle.withUnsafeBufferPointer { pattern in
                guard let base = haystack.baseAddress, let needleBase = pattern.baseAddress else { return false }
                var index = 0
                let last = haystack.count - pattern.count
                while index <= last {
                    guard let found = memchr(base + index, Int32(first), last - index + 1) else { return false }
                    let position = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    if memcmp(base + position, needleBase, pattern.count) == 0 { return true }
                    index = position + 1
                }
                return false
            }
        }
    }
}
