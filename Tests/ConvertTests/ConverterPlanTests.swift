import Disk
import Ext4
import OCIModels
import Testing

@testable import Convert

/// The decisions a convert makes before it writes anything: sizes, formats, identifiers.
@Suite struct ConverterPlanTests {
    static let mebibyte = ByteSize.mebibyte

    func options(_ format: ConvertOptions.Format, size: ConvertOptions.Size = .auto, extra: Int64? = nil) -> ConvertOptions {
        var options = ConvertOptions(source: .path("/nonexistent"), output: "/tmp/disk")
        options.format = format
        options.size = size
        options.extraSpace = extra
        return options
    }

    static func sizes(_ options: ConvertOptions, _ minimum: Int64, boot: Int64) throws -> (Int64, Int64) {
        let layout = try DiskLayout(options, minimumFilesystemBytes: minimum, bootBytes: boot, seedBytes: 0)
        return (layout.diskBytes, layout.filesystemBytes)
    }

    /// Boot partition, then the seed, then the root at the end (--grow-root extends it); the
    /// table lists boot, root, seed, and only one entry is bootable.
    @Test func partitionsLieInOrderWithTheRootLast() throws {
        let layout = try DiskLayout(options(.qcow2), minimumFilesystemBytes: 8 * Self.mebibyte, bootBytes: 40 * Self.mebibyte, seedBytes: 2 * Self.mebibyte)
        #expect(layout.bootOffset == Self.mebibyte && layout.seedOffset == 41 * Self.mebibyte && layout.rootOffset == 43 * Self.mebibyte)
        #expect(layout.rootOffset + layout.filesystemBytes == layout.diskBytes)
        #expect(layout.staging == .scratchRaw && layout.writesQCOW2Directly)
        let table = layout.partitions(bootType: 0x0E, seedType: 0x0C)
        #expect(table.map(\.type) == [0x0E, MBR.linuxType, 0x0C])
        #expect(table.map(\.bootable) == [true, false, false])
        #expect(table.map(\.firstSector) == [2048, 43 * 2048, 41 * 2048])
        let dataDisk = try DiskLayout(options(.raw), minimumFilesystemBytes: 8 * Self.mebibyte, bootBytes: 0, seedBytes: 0)
        #expect(dataDisk.staging == .output && !dataDisk.writesQCOW2Directly)
        #expect(dataDisk.partitions(bootType: nil, seedType: nil).map(\.bootable) == [true])
        let bare = try DiskLayout(options(.ext4), minimumFilesystemBytes: 8 * Self.mebibyte, bootBytes: 0, seedBytes: 0)
        #expect(bare.rootOffset == 0 && bare.tableBytes == 0)
    }

    @Test func anAutoSizeIsTheContentPlusHeadroomInWholeMebibytes() throws {
        let minimum: Int64 = 10 * Self.mebibyte + 4096
        let (disk, filesystem) = try Self.sizes(options(.raw), minimum, boot: 20 * Self.mebibyte)
        // 256 MiB of headroom (more than a quarter of 10 MiB), rounded up to whole MiB.
        #expect(filesystem == 10 * Self.mebibyte + 4096 + 256 * Self.mebibyte + (Self.mebibyte - 4096))
        #expect(disk == filesystem + ConvertOptions.partitionOffset + 20 * Self.mebibyte)
        let bare = try Self.sizes(options(.ext4, extra: 0), minimum, boot: 0)
        #expect(bare.0 == bare.1 && bare.1 == 11 * Self.mebibyte)
    }

    @Test func aGivenSizeIsTheWholeDiskAndMustHoldTheContent() throws {
        let (disk, filesystem) = try Self.sizes(options(.qcow2, size: .bytes(1 << 30)), 5 * Self.mebibyte, boot: 0)
        #expect(disk == 1 << 30 && filesystem == (1 << 30) - ConvertOptions.partitionOffset)
        #expect(throws: Ext4Error.tooSmall(neededBytes: 900 * Self.mebibyte + ConvertOptions.partitionOffset, availableBytes: 512 * Self.mebibyte)) {
            try Self.sizes(options(.raw, size: .bytes(512 * Self.mebibyte)), 900 * Self.mebibyte, boot: 0)
        }
    }

    @Test func anMBRDiskStopsBelowTwoTebibytes() throws {
        let tooBig: Int64 = 3 << 40
        #expect(throws: Ext4Error.self) { try Self.sizes(options(.raw, size: .bytes(tooBig)), Self.mebibyte, boot: 0) }
        // A bare filesystem has no partition table to limit it.
        #expect(try Self.sizes(options(.ext4, size: .bytes(tooBig)), Self.mebibyte, boot: 0).0 == tooBig)
    }

    @Test(arguments: [
        ("disk.qcow2", ConvertOptions.Format.qcow2), ("d.VMDK", .vmdk), ("root.ext4", .ext4), ("disk.img", .raw), ("noext", .raw), ("a.b/disk", .raw)
    ])
    func theFormatFollowsTheOutputsName(_ path: String, _ format: ConvertOptions.Format) {
        #expect(ConvertOptions.Format.from(path: path) == format)
    }

    @Test func identifiersComeFromTheImageAndTheLabel() throws {
        let image = try Digest(parsing: "sha256:" + String(repeating: "ab", count: 32))
        let other = try Digest(parsing: "sha256:" + String(repeating: "cd", count: 32))
        let ids = StableIdentifiers(identity: image, label: "root")
        #expect(ids.filesystemUUID == StableIdentifiers(identity: image, label: "root").filesystemUUID)
        #expect(ids.filesystemUUID != StableIdentifiers(identity: image, label: "data").filesystemUUID)
        #expect(ids.filesystemUUID != StableIdentifiers(identity: other, label: "root").filesystemUUID)
        // A version-4-shaped, RFC 4122 UUID, printed the way blkid prints it.
        let text = StableIdentifiers.format(ids.filesystemUUID)
        #expect(StableIdentifiers.parse(text) == ids.filesystemUUID)
        #expect(ids.filesystemUUID[6] >> 4 == 4 && ids.filesystemUUID[8] & 0xC0 == 0x80)
        #expect(StableIdentifiers.parse("not-a-uuid") == nil)
    }

    @Test func errorsNameTheOption() {
        #expect(ConvertError.containerDiskNeedsADisk.description == "--containerdisk needs a disk, not --format ext4")
        #expect(ConvertError.loginNeedsSystemMode(options: ["--login-user"]).description.hasPrefix("--login-user: the disk boots in app mode"))
    }
}
