/// What a file given as a kernel is, read from its header alone: an x86 bzImage (the only
/// kind this version boots), or enough about anything else to say why it cannot be booted.
///
/// Written by hand because no library reads these headers: the layouts are the kernel's
/// own documents (x86 `Documentation/arch/x86/boot.rst`, arm64 `booting.rst`, riscv
/// `boot-image-header.rst`) and the ELF and PE/COFF headers for the other shapes.
public struct KernelImage: Equatable, Sendable {
    /// CPU architectures, named as OCI platforms name them (`linux/amd64`).
    public enum Architecture: String, Sendable {
        case amd64, i386 = "386", arm64, arm, riscv64, ppc64le, s390x, unknown
    }

    public enum Kind: Equatable, Sendable {
        /// An x86 boot-protocol image with its setup header.
        case bzImage(protocolVersion: UInt16)
        /// An arm64 or riscv64 `Image` (uncompressed, with its own header).
        case flatImage
        /// An ELF executable (an uncompressed vmlinux).
        case elf
        /// A PE/COFF EFI executable without a Linux boot header (e.g. arm64's EFI zboot).
        case efiExecutable
    }

    public let kind: Kind
    public let architecture: Architecture
    /// `uname -r` of the kernel when its header says (bzImage), e.g. `6.1.0-27-cloud-amd64`.
    public let release: String?
    /// Where the compressed kernel proper sits in a bzImage (boot protocol ≥ 2.08).
    public let payload: Range<Int>?

    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        /// Nothing a Linux kernel starts with; `what` names what it looks like instead, if anything.
        case notAKernel(what: String?)
        case damaged(String)

        public var description: String {
            switch self {
            case .notAKernel(let what?): "not a Linux kernel image (\(what))"
            case .notAKernel(nil): "not a Linux kernel image"
            case .damaged(let reason): "a damaged kernel image: \(reason)"
            }
        }
    }

    /// How the architecture reads in messages: "an arm64 kernel", "a 386 kernel".
    public var summary: String {
        let name = architecture == .unknown ? "unknown-architecture" : architecture.rawValue
        let article = name.first.map { "aeiou".contains($0) } == true ? "an" : "a"
        switch kind {
        case .bzImage, .flatImage: return "\(article) \(name) kernel"
        case .elf: return "\(article) \(name) ELF kernel (an uncompressed vmlinux, not a bzImage)"
        case .efiExecutable: return "\(article) \(name) EFI executable"
        }
    }

    public init(kind: Kind, architecture: Architecture, release: String?, payload: Range<Int>?) {
        self.kind = kind
        self.architecture = architecture
        self.release = release
        self.payload = payload
    }

    /// Reads the header of `bytes`. Every offset is checked against the buffer before use.
    public init(_ bytes: [UInt8]) throws(Failure) {
        let header = LittleEndianBytes(bytes)
        if let image = try Self.bzImage(header) { self = image; return }
        if let image = Self.flatImage(header) { self = image; return }
        if let image = Self.elf(header) { self = image; return }
        if let image = Self.portableExecutable(header) { self = image; return }
        throw .notAKernel(what: Self.otherFormat(bytes))
    }

    // x86: the boot sector's 0xAA55 and the setup header's "HdrS" magic.
    private static func bzImage(_ bytes: LittleEndianBytes) throws(Failure) -> KernelImage? {
        guard bytes.u16(0x1FE) == 0xAA55, bytes.slice(0x202, 4) == Array("HdrS".utf8), let version = bytes.u16(0x206) else { return nil }
        guard version >= 0x0208 else { throw .damaged("boot protocol \(version >> 8).\(version & 0xFF) is older than 2.08 (kernels before 2.6.26)") }
        // 2.12 added xloadflags; its bit 0 says the kernel has a 64-bit entry point.
        let is64Bit = version >= 0x020C && (bytes.u16(0x236) ?? 0) & 1 == 1
        let setupSectors = Int(bytes.u8(0x1F1) ?? 0) == 0 ? 4 : Int(bytes.u8(0x1F1) ?? 0)
        guard let payloadOffset = bytes.u32(0x248), let payloadLength = bytes.u32(0x24C) else { return nil }
        let (start, overflow) = ((setupSectors + 1) * 512).addingReportingOverflow(Int(payloadOffset))
        let (end, overflow2) = start.addingReportingOverflow(Int(payloadLength))
        guard !overflow, !overflow2, payloadLength > 4, end <= bytes.count else {
            throw .damaged("its payload (\(payloadLength) bytes at \(start)) lies outside the file's \(bytes.count) bytes")
        }
        return KernelImage(
            kind: .bzImage(protocolVersion: version), architecture: is64Bit ? .amd64 : .i386,
            release: Self.release(bytes), payload: start..<end)
    }

    /// `kernel_version` points (from 0x200) at "RELEASE (builder) #1 SMP …".
    private static func release(_ bytes: LittleEndianBytes) -> String? {
        guard let pointer = bytes.u16(0x20E), pointer != 0 else { return nil }
        let start = 0x200 + Int(pointer)
        guard start < bytes.count else { return nil }
        let text = bytes.cString(at: start, limit: 256)
        let release = text.prefix { $0 != UInt8(ascii: " ") }
        return release.isEmpty ? nil : String(decoding: release, as: UTF8.self)
    }

    // arm64 and riscv64 `Image`: a 64-byte header with a magic at 0x38.
    private static func flatImage(_ bytes: LittleEndianBytes) -> KernelImage? {
        switch bytes.slice(0x38, 4) {
        case Array("ARM\u{64}".utf8): return KernelImage(kind: .flatImage, architecture: .arm64, release: nil, payload: nil)
        case [0x52, 0x53, 0x43, 0x05]: return KernelImage(kind: .flatImage, architecture: .riscv64, release: nil, payload: nil)
        default:
            // 32-bit arm zImage: its magic 0x016F2818 at 0x24.
            return bytes.u32(0x24) == 0x016F_2818 ? KernelImage(kind: .flatImage, architecture: .arm, release: nil, payload: nil) : nil
        }
    }

    private static func elf(_ bytes: LittleEndianBytes) -> KernelImage? {
        guard bytes.slice(0, 4) == [0x7F, 0x45, 0x4C, 0x46], let machine = bytes.u16(0x12) else { return nil }
        let architecture: Architecture =
            switch machine {
            case 62: .amd64
            case 3: .i386
            case 183: .arm64
            case 40: .arm
            case 243: .riscv64
            case 21: .ppc64le
            case 22: .s390x
            default: .unknown
            }
        return KernelImage(kind: .elf, architecture: architecture, release: nil, payload: nil)
    }

    private static func portableExecutable(_ bytes: LittleEndianBytes) -> KernelImage? {
        guard bytes.slice(0, 2) == Array("MZ".utf8), let offset = bytes.u32(0x3C), bytes.slice(Int(offset), 4) == [0x50, 0x45, 0, 0],
            let machine = bytes.u16(Int(offset) + 4)
        else { return nil }
        let architecture: Architecture =
            switch machine {
            case 0x8664: .amd64
            case 0x014C: .i386
            case 0xAA64: .arm64
            case 0x01C2, 0x01C4: .arm
            case 0x5064: .riscv64
            default: .unknown
            }
        return KernelImage(kind: .efiExecutable, architecture: architecture, release: nil, payload: nil)
    }

    /// A hint for files that are no kernel at all, from their first bytes.
    private static func otherFormat(_ bytes: [UInt8]) -> String? {
        if bytes.isEmpty { return "the file is empty" }
        if bytes.starts(with: [0x1F, 0x8B]) { return "gzip-compressed data: decompress it first; Debian's arm64 vmlinuz is a gzip'd arm64 Image" }
        if bytes.starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return "xz-compressed data" }
        if bytes.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) { return "zstd-compressed data" }
        if bytes.starts(with: Array("!<arch>\n".utf8)) { return "an ar archive: a Debian package goes to --kernel-package" }
        if bytes.starts(with: Array("070701".utf8)) { return "a cpio archive: an initramfs?" }
        let sample = bytes.prefix(512)
        if sample.allSatisfy({ $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || (0x20..<0x7F).contains($0) || $0 >= 0x80 }) { return "a text file" }
        return nil
    }
}

/// Bounds-checked little-endian reads: a short or crafted file yields nil, never a trap.
struct LittleEndianBytes {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var count: Int { bytes.count }

    func u8(_ at: Int) -> UInt8? { at >= 0 && at < bytes.count ? bytes[at] : nil }
    func u16(_ at: Int) -> UInt16? {
        guard at >= 0, at <= bytes.count - 2 else { return nil }
        return UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
    }
    func u32(_ at: Int) -> UInt32? {
        guard let low = u16(at), let high = u16(at + 2) else { return nil }
        return UInt32(low) | UInt32(high) << 16
    }
    func u64(_ at: Int) -> UInt64? {
        guard let low = u32(at), let high = u32(at + 4) else { return nil }
        return UInt64(low) | UInt64(high) << 32
    }
    func slice(_ at: Int, _ length: Int) -> [UInt8]? {
        guard at >= 0, length >= 0, at <= bytes.count - length else { return nil }
        return Array(bytes[at..<(at + length)])
    }
    /// Bytes from `at` up to a NUL, at most `limit`.
    func cString(at: Int, limit: Int) -> ArraySlice<UInt8> {
        guard at >= 0, at < bytes.count else { return [] }
        let end = min(bytes.count, at + limit)
        let stop = bytes[at..<end].firstIndex(of: 0) ?? end
        return bytes[at..<stop]
    }
}
