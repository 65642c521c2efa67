import LinuxKernel
import Testing

/// Headers crafted byte by byte after the kernel's boot documents, one per shape a user might
/// hand to `--kernel`, and the crafted offsets a hostile file could carry.
@Suite struct KernelImageTests {
    /// A minimal x86 bzImage: boot sector flag, "HdrS", protocol, xloadflags, release string.
    static func bzImage(
        protocol version: UInt16 = 0x020F, xloadflags: UInt16 = 1, release: String? = "6.1.0-9-amd64 (builder) #1 SMP",
        payload: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8], payloadOffset: UInt32? = nil, payloadLength: UInt32? = nil
    ) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 5 * 512)
        func put16(_ value: UInt16, _ at: Int) { bytes[at] = UInt8(value & 0xFF); bytes[at + 1] = UInt8(value >> 8) }
        func put32(_ value: UInt32, _ at: Int) { put16(UInt16(value & 0xFFFF), at); put16(UInt16(value >> 16), at + 2) }
        bytes[0x1F1] = 4
        put16(0xAA55, 0x1FE)
        bytes.replaceSubrange(0x202..<0x206, with: Array("HdrS".utf8))
        put16(version, 0x206)
        put16(xloadflags, 0x236)
        if let release {
            let at = 0x400
            bytes.replaceSubrange(at..<(at + release.utf8.count), with: Array(release.utf8))
            put16(UInt16(at - 0x200), 0x20E)
        }
        put32(payloadOffset ?? 0, 0x248)
        put32(payloadLength ?? UInt32(payload.count), 0x24C)
        return bytes + payload
    }

    @Test func anX86_64BzImageWithItsRelease() throws {
        let image = try KernelImage(Self.bzImage())
        #expect(image.kind == .bzImage(protocolVersion: 0x020F))
        #expect(image.architecture == .amd64)
        #expect(image.release == "6.1.0-9-amd64")
        #expect(image.payload == 2560..<2568)
    }

    @Test func aBzImageWithoutThe64BitEntryIs32Bit() throws {
        #expect(try KernelImage(Self.bzImage(xloadflags: 0)).architecture == .i386)
        #expect(try KernelImage(Self.bzImage(protocol: 0x020A)).architecture == .i386, "before 2.12 there are no xloadflags")
        #expect(try KernelImage(Self.bzImage(xloadflags: 0)).summary == "a 386 kernel")
    }

    @Test func anAncientBootProtocolIsRefused() {
        #expect(throws: KernelImage.Failure.self) { try KernelImage(Self.bzImage(protocol: 0x0204)) }
    }

    @Test func crafedPayloadOffsetsAreAnErrorNotATrap() {
        for (offset, length) in [(UInt32.max, UInt32(16)), (0, UInt32.max), (UInt32.max - 8, UInt32.max), (100_000, 8)] {
            #expect(throws: KernelImage.Failure.self) { try KernelImage(Self.bzImage(payloadOffset: offset, payloadLength: length)) }
        }
    }

    @Test func arm64AndRiscvImagesAreNamed() throws {
        var arm64 = [UInt8](repeating: 0, count: 64)
        arm64.replaceSubrange(0x38..<0x3C, with: Array("ARM\u{64}".utf8))
        #expect(try KernelImage(arm64).architecture == .arm64)
        #expect(try KernelImage(arm64).summary == "an arm64 kernel")
        var riscv = [UInt8](repeating: 0, count: 64)
        riscv.replaceSubrange(0x38..<0x3C, with: [0x52, 0x53, 0x43, 0x05])
        #expect(try KernelImage(riscv).architecture == .riscv64)
    }

    @Test func elfAndPEAreNamedByMachine() throws {
        var elf = [UInt8](repeating: 0, count: 64)
        elf.replaceSubrange(0..<4, with: [0x7F, 0x45, 0x4C, 0x46])
        elf[0x12] = 183
        #expect(try KernelImage(elf) == KernelImage(kind: .elf, architecture: .arm64, release: nil, payload: nil))
        var pe = [UInt8](repeating: 0, count: 256)
        pe.replaceSubrange(0..<2, with: Array("MZ".utf8))
        pe[0x3C] = 0x80
        pe.replaceSubrange(0x80..<0x84, with: [0x50, 0x45, 0, 0])
        pe[0x84] = 0x64; pe[0x85] = 0xAA
        #expect(try KernelImage(pe).kind == .efiExecutable)
        #expect(try KernelImage(pe).architecture == .arm64)
        pe[0x3C] = 0xFF; pe[0x3D] = 0xFF; pe[0x3E] = 0xFF; pe[0x3F] = 0x7F
        #expect(throws: KernelImage.Failure.self) { try KernelImage(pe) }
    }

    @Test func otherFilesSayWhatTheyAre() {
        #expect(throws: KernelImage.Failure.notAKernel(what: "a text file")) { try KernelImage(Array("root:x:0:0:root:/root:/bin/sh\n".utf8)) }
        #expect(throws: KernelImage.Failure.notAKernel(what: "the file is empty")) { try KernelImage([]) }
        #expect(throws: KernelImage.Failure.notAKernel(what: "an ar archive: a Debian package goes to --kernel-package")) {
            try KernelImage(Array("!<arch>\ndebian-binary".utf8))
        }
        #expect(throws: KernelImage.Failure.notAKernel(what: nil)) { try KernelImage([0, 1, 2, 3, 0xFF]) }
    }

    @Test func aPayloadTrailerClaimingTooMuchIsRefusedBeforeReserving() {
        // 8 bytes of payload claiming 4 GiB - 1 uncompressed.
        let image = Self.bzImage(payload: [0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: KernelPayload.Failure.implausibleSize(claimed: Int(UInt32.max), payload: 8)) { try KernelPayload.uncompressed(image) }
        let modest = Self.bzImage(payload: [0, 0, 0, 0, 0x00, 0x10, 0x00, 0x00])
        #expect(throws: KernelPayload.Failure.implausibleSize(claimed: 4096, payload: 8)) { try KernelPayload.uncompressed(modest) }
    }

    @Test func crafedELFNoteOffsetsAreFalseNotATrap() {
        var elf = [UInt8](repeating: 0, count: 256)
        elf.replaceSubrange(0..<6, with: [0x7F, 0x45, 0x4C, 0x46, 2, 1])
        elf[0x20] = 64  // program headers at 64
        elf[0x36] = 56  // entry size
        elf[0x38] = 1  // one entry
        elf[64] = 4  // PT_NOTE
        for byte in 72..<80 { elf[byte] = 0xFF }  // p_offset: 2^64 - 1
        for byte in 96..<104 { elf[byte] = 0x7F }
        #expect(!KernelPayload.hasPVHEntry(elf))
        for byte in 72..<80 { elf[byte] = 0 }
        elf[72] = 200
        for byte in 96..<104 { elf[byte] = 0 }
        elf[96] = 56
        for byte in 200..<212 { elf[byte] = 0xFF }  // note sizes near 2^32
        #expect(!KernelPayload.hasPVHEntry(elf))
        elf[0x38] = 0xFF; elf[0x39] = 0xFF  // 65535 headers in a 256-byte file
        #expect(!KernelPayload.hasPVHEntry(elf))
    }

    @Test func driverNamesAreWholeStrings() {
        let kernel = [0] + Array("serial8250".utf8) + [0] + Array("virtio-pci".utf8) + [0] + Array("__virtio16\0virtio_net_hdr".utf8) + [0]
        #expect(KernelPayload.namesDriver("serial8250", in: kernel))
        #expect(KernelPayload.namesDriver("virtio_pci", in: kernel), "the dashed form counts")
        #expect(!KernelPayload.namesDriver("virtio_net", in: kernel), "a prefix of another name does not")
        #expect(!KernelPayload.namesDriver("virtio_blk", in: kernel))
    }
}
