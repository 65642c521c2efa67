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

    @Test func anAutoSizeIsTheContentPlusHeadroomInWholeMebibytes() throws {
        let minimum: Int64 = 10 * Self.mebibyte + 4096
        let (disk, filesystem) = try Converter.sizes(options(.raw), minimumFilesystemBytes: minimum, bootBytes: 20 * Self.mebibyte)
        // 256 MiB of headroom (more than a quarter of 10 MiB), rounded up to whole MiB.
        #expect(filesystem == 10 * Self.mebibyte + 4096 + 256 * Self.mebibyte + (Self.mebibyte - 4096))
        #expect(disk == filesystem + ConvertOptions.partitionOffset + 20 * Self.mebibyte)
        let bare = try Converter.sizes(options(.ext4, extra: 0), minimumFilesystemBytes: minimum, bootBytes: 0)
        #expect(bare.0 == bare.1 && bare.1 == 11 * Self.mebibyte)
    }

    @Test func aGivenSizeIsTheWholeDiskAndMustHoldTheContent() throws {
        let (disk, filesystem) = try Converter.sizes(options(.qcow2, size: .bytes(1 << 30)), minimumFilesystemBytes: 5 * Self.mebibyte, bootBytes: 0)
        #expect(disk == 1 << 30 && filesystem == (1 << 30) - ConvertOptions.partitionOffset)
        #expect(throws: Ext4Error.tooSmall(neededBytes: 900 * Self.mebibyte + ConvertOptions.partitionOffset, availableBytes: 512 * Self.mebibyte)) {
            try Converter.sizes(options(.raw, size: .bytes(512 * Self.mebibyte)), minimumFilesystemBytes: 900 * Self.mebibyte, bootBytes: 0)
        }
    }

    @Test func anMBRDiskStopsBelowTwoTebibytes() throws {
        let tooBig: Int64 = 3 << 40
        #expect(throws: Ext4Error.self) { try Converter.sizes(options(.raw, size: .bytes(tooBig)), minimumFilesystemBytes: Self.mebibyte, bootBytes: 0) }
        // A bare filesystem has no partition table to limit it.
        #expect(try Converter.sizes(options(.ext4, size: .bytes(tooBig)), minimumFilesystemBytes: Self.mebibyte, bootBytes: 0).0 == tooBig)
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
