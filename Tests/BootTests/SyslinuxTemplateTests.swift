import Disk
import Foundation
import Testing
@testable import Boot

/// The template path must give the bytes the tools give when run on the disk itself.
@Suite(
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: "/usr/bin/syslinux") && FATPartition.toolsInstalled,
        "needs Debian's syslinux and mtools"))
struct SyslinuxTemplateTests {
    let scratch = NSTemporaryDirectory() + "syslinux-template-\(UUID().uuidString)"
    static let offset: Int64 = 1 << 20
    static let bytes: Int64 = 28 << 20

    func disk(_ name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let path = scratch + "/" + name
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(truncate(path, off_t(Self.offset + Self.bytes)) == 0)
        return path
    }

    @Test(arguments: [(UInt32(0x16C2_17EC), Int64(1_700_000_000)), (UInt32(0xDEAD_BEEF), Int64(1_234_567_891)), (UInt32(1), Int64(0))])
    func theTemplateGivesTheToolsBytes(_ serial: UInt32, _ time: Int64) throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let direct = try disk("direct.img")
        let partition = FATPartition(image: direct, offset: Self.offset, time: time)
        try partition.format(bytes: Self.bytes, label: "boot", serial: serial)
        try Syslinux.install(on: partition)

        let cache = scratch + "/cache"
        for round in ["made", "cached"] {
            let stamped = try disk("stamped-\(round).img")
            try SyslinuxTemplate.install(
                on: FATPartition(image: stamped, offset: Self.offset, time: time), bytes: Self.bytes, label: "boot",
                serial: serial, cacheDirectory: cache, scratch: scratch)
            #expect(FileManager.default.contents(atPath: stamped) == FileManager.default.contents(atPath: direct), "\(round)")
        }
    }

    @Test func aDamagedTemplateIsMadeAgain() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let cache = scratch + "/cache"
        let first = try disk("first.img")
        try SyslinuxTemplate.install(
            on: FATPartition(image: first, offset: Self.offset, time: 0), bytes: Self.bytes, label: "boot",
            serial: 7, cacheDirectory: cache, scratch: scratch)
        let stored = try #require(try FileManager.default.contentsOfDirectory(atPath: cache).first { $0.hasPrefix("syslinux-") })
        var damaged = [UInt8](try #require(FileManager.default.contents(atPath: cache + "/" + stored)))
        damaged[damaged.count / 2] ^= 0xFF
        #expect(SectorRuns(encoded: damaged) == nil)
        try Data(damaged).write(to: URL(fileURLWithPath: cache + "/" + stored))
        let second = try disk("second.img")
        try SyslinuxTemplate.install(
            on: FATPartition(image: second, offset: Self.offset, time: 0), bytes: Self.bytes, label: "boot",
            serial: 7, cacheDirectory: cache, scratch: scratch)
        #expect(FileManager.default.contents(atPath: second) == FileManager.default.contents(atPath: first))
    }
}
