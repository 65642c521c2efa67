@testable import Disk
import Foundation
import Testing

/// The FAT boot partition made through mtools inside an image file, read back with mtools and
/// checked with dosfstools' fsck.fat and libblkid.
@Suite struct FATPartitionTests {
    static func image(_ name: String, bytes: Int64) throws -> String {
        let path = NSTemporaryDirectory() + "fat-\(name)-\(UUID().uuidString).img"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(bytes))
        try handle.close()
        return path
    }

    static func make(_ image: String, time: Int64) throws -> FATPartition {
        let fat = FATPartition(image: image, offset: 1 << 20, time: time)
        try fat.format(bytes: 20 << 20, label: "boot", serial: 0x1234_ABCD)
        let source = image + ".payload"
        defer { unlink(source) }
        let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(FileManager.default.createFile(atPath: source, contents: Data(payload)))
        try fat.copy([(source, "payload.bin"), (source, "second")])
        return fat
    }

    @Test func writesReadsAndListsFiles() throws {
        let path = try Self.image("rw", bytes: 22 << 20)
        defer { unlink(path) }
        let fat = try Self.make(path, time: 1_700_000_000)
        #expect(try fat.list() == ["/payload.bin", "/second"])
        let files = try fat.files()
        #expect(files.map(\.path) == ["/payload.bin", "/second"] && files.allSatisfy { $0.size == 300_000 })
        let out = NSTemporaryDirectory() + "fat-out-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: out) }
        try fat.copyOut(["payload.bin"], to: out)
        let back = try #require(FileManager.default.contents(atPath: out + "/payload.bin"))
        #expect([UInt8](back) == (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        #expect(throws: (any Error).self, "a missing file is an error") { try fat.copyOut(["missing"], to: out) }
        #expect(try fat.partitionType() == 0x0E, "20 MiB is FAT16")

        let probed = try #require(try BlockProbe(path: path, offset: 1 << 20, size: 20 << 20).filesystem())
        #expect(probed.type == "vfat")
        #expect(probed.label == "boot", "the label keeps its case")
        #expect(probed.uuid == "1234-ABCD")

        // dosfstools, read-only, on the partition alone.
        let alone = path + ".part"
        defer { unlink(alone) }
        let bytes = try #require(FileManager.default.contents(atPath: path))
        try bytes.subdata(in: (1 << 20)..<(21 << 20)).write(to: URL(fileURLWithPath: alone))
        let fsck = Process()
        fsck.executableURL = URL(fileURLWithPath: "/sbin/fsck.fat")
        fsck.arguments = ["-n", alone]
        fsck.standardOutput = FileHandle.nullDevice
        try fsck.run()
        fsck.waitUntilExit()
        #expect(fsck.terminationStatus == 0)
    }

    @Test func sameInputSameBytesWheneverItRuns() throws {
        let a = try Self.image("a", bytes: 22 << 20), b = try Self.image("b", bytes: 22 << 20)
        defer { unlink(a); unlink(b) }
        _ = try Self.make(a, time: 1_700_000_000)
        Thread.sleep(forTimeInterval: 1.1)
        _ = try Self.make(b, time: 1_700_000_000)
        #expect(FileManager.default.contents(atPath: a) == FileManager.default.contents(atPath: b))
    }

    @Test func timesBefore1980AreMovedUp() {
        #expect(FATPartition(image: "x", offset: 0, time: 0).time == FATPartition.earliestTime)
    }
}

@Suite struct FATListingTests {
    @Test func entriesAreReadFromTheLongListing() {
        #expect(FATPartition.listingEntry("vmlinuz       14190528 2026-12-04  14:28 ")! == ("vmlinuz", 14_190_528))
        #expect(FATPartition.listingEntry("syslinux cfg         4 2026-12-04  14:28 ")! == ("syslinux.cfg", 4))
        #expect(FATPartition.listingEntry("ALONGN~1 TXT         4 2026-12-04  14:28  a long name with spaces.txt")! == ("a long name with spaces.txt", 4))
        for line in [
            "d            <DIR>     2026-12-04  14:27 ", ".            <DIR>     2026-12-04  14:27 ", "        4 files                  11 bytes",
            " Volume in drive : has no label", " Volume Serial Number is DC37-9D66", "Total files listed:", "",
            "                          8 347 648 bytes free"
        ] {
            #expect(FATPartition.listingEntry(line) == nil, "\(line)")
        }
    }
}
