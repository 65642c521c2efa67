import Archive
@testable import Bundle
import CLinux
import Flatten
import Foundation
import Testing

@Suite("BundleWriter", .serialized) struct BundleWriterTests {
    private func write(_ fixture: TreeFixture, rootless: Bool = false) throws -> (String, WriteSummary) {
        let fd = try fixture.makeDirectory("rootfs")
        defer { close(fd) }
        let summary = try BundleWriter.write(tree: fixture.tree, spill: fixture.spill, into: fd, rootless: rootless)
        return (fixture.scratch + "/rootfs", summary)
    }

    @Test func contentModesAndTimes() throws {
        let f = try TreeFixture()
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        try f.layer(
            0,
            [
                dir("bin", mode: 0o751, mtime: 1_234), file("bin/tool", data, mode: 0o4755, nanos: 123_456_789),
                file("empty", [], mode: 0o000, mtime: -1_000_000_000), dir("ro", mode: 0o555), file("ro/inside", "x")
            ])
        let (root, summary) = try write(f)
        #expect(FileManager.default.contents(atPath: root + "/bin/tool") == Data(data))
        let tool = try #require(lstatOf(root + "/bin/tool"))
        #expect(tool.st_mode & 0o7777 == 0o4755)
        #expect(tool.st_mtim.tv_sec == 1_700_000_000 && tool.st_mtim.tv_nsec == 123_456_789)
        let empty = try #require(lstatOf(root + "/empty"))
        #expect(empty.st_mode & 0o7777 == 0 && empty.st_size == 0 && empty.st_mtim.tv_sec == -1_000_000_000)
        // Directory times are set after their children.
        #expect(lstatOf(root + "/bin")?.st_mtim.tv_sec == 1_234)
        #expect(lstatOf(root + "/ro").map { $0.st_mode & 0o7777 } == 0o555)
        #expect(summary.files == 3 && summary.directories == 3)
    }

    @Test func holesStayHoles() throws {
        let f = try TreeFixture()
        var bytes = [UInt8](repeating: 0, count: 3 << 20)
        bytes[0] = 1
        bytes[bytes.count - 1] = 2
        try f.layer(0, [file("sparse", bytes), file("zeros", [UInt8](repeating: 0, count: 1 << 20))])
        let (root, _) = try write(f)
        let sparse = try #require(lstatOf(root + "/sparse"))
        #expect(sparse.st_size == 3 << 20)
        #expect(sparse.st_blocks * 512 <= 64 << 10)
        #expect(FileManager.default.contents(atPath: root + "/sparse") == Data(bytes))
        #expect(lstatOf(root + "/zeros")?.st_blocks == 0)
    }

    @Test func symlinksAreCreatedNeverFollowed() throws {
        let f = try TreeFixture()
        let host = f.scratch + "/host"
        try FileManager.default.createDirectory(atPath: host, withIntermediateDirectories: false)
        try f.layer(0, [symlink("abs", host), symlink("up", "../../../../../../.."), dir("tmp")])
        try f.layer(1, [file("abs/pwned", "image"), file("up/" + String(host.dropFirst()) + "/pwned2", "image")])
        let (root, _) = try write(f)
        #expect(try FileManager.default.contentsOfDirectory(atPath: host).isEmpty)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/abs") == host)
        #expect(lstatOf(root + "/abs")?.st_mtim.tv_sec == 1_500_000_000)
        #expect(FileManager.default.contents(atPath: root + host + "/pwned") == Data("image".utf8))
        #expect(FileManager.default.contents(atPath: root + host + "/pwned2") == Data("image".utf8))
    }

    @Test func hardLinksShareAnInodeInsideTheRoot() throws {
        let f = try TreeFixture()
        try f.layer(
            0,
            [
                dir("a"), file("a/one", "shared"), dir("b"), hardlink("b/two", "a/one"), hardlink("three", "a/one"),
                node("fifo", .fifo), hardlink("fifo-link", "fifo"), symlink("sym", "a/one"), hardlink("sym-link", "sym")
            ])
        let (root, summary) = try write(f)
        let one = try #require(lstatOf(root + "/a/one"))
        #expect(one.st_nlink == 3)
        #expect(lstatOf(root + "/b/two")?.st_ino == one.st_ino && lstatOf(root + "/three")?.st_ino == one.st_ino)
        #expect(lstatOf(root + "/fifo-link")?.st_ino == lstatOf(root + "/fifo")?.st_ino)
        #expect(lstatOf(root + "/sym-link").map { $0.st_mode & S_IFMT } == S_IFLNK)
        #expect(lstatOf(root + "/sym-link")?.st_ino == lstatOf(root + "/sym")?.st_ino)
        #expect(summary.files == 7)
    }

    @Test(.enabled(if: isRoot, "needs root: chown, mknod")) func ownersDevicesAndCapabilities() throws {
        let f = try TreeFixture()
        let capability: [UInt8] = [0, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]  // v2, cap_net_bind_service
        try f.layer(
            0,
            [
                file(
                    "ping", Array("x".utf8), mode: 0o4755, uid: 1000, gid: 1000,
                    xattrs: [Xattr(name: "security.capability", value: capability), Xattr(name: "user.note", value: Array("hi".utf8))]),
                node("null", .characterDevice, major: 1, minor: 3, mode: 0o666), node("sda300", .blockDevice, major: 8, minor: 300)
            ])
        let (root, _) = try write(f)
        let ping = try #require(lstatOf(root + "/ping"))
        #expect(ping.st_uid == 1000 && ping.st_gid == 1000)
        #expect(ping.st_mode & 0o7777 == 0o4755, "chmod must come after chown, which clears setuid")
        var value = [UInt8](repeating: 0, count: 64)
        let n = getxattr(root + "/ping", "security.capability", &value, value.count)
        #expect(n == capability.count && Array(value.prefix(max(n, 0))) == capability, "security.capability must survive chown")
        let null = try #require(lstatOf(root + "/null"))
        #expect(null.st_mode & S_IFMT == S_IFCHR && UInt64(null.st_rdev) == linux_makedev(1, 3) && null.st_mode & 0o7777 == 0o666)
        #expect(lstatOf(root + "/sda300").map { UInt64($0.st_rdev) } == linux_makedev(8, 300))
    }

    @Test func rootlessSkipsDevicesAndOwners() throws {
        let f = try TreeFixture()
        try f.layer(
            0,
            [
                file("f", Array("x".utf8), mode: 0o640, uid: 1000, gid: 1000), node("null", .characterDevice, major: 1, minor: 3),
                hardlink("null-link", "null"), node("fifo", .fifo)
            ])
        let (root, summary) = try write(f, rootless: true)
        #expect(lstatOf(root + "/f")?.st_uid == geteuid())
        #expect(lstatOf(root + "/null") == nil && lstatOf(root + "/null-link") == nil)
        #expect(summary.skippedDevices == ["/null", "/null-link"])
        #expect(lstatOf(root + "/fifo").map { $0.st_mode & S_IFMT } == S_IFIFO)
    }

    @Test func stopsWhenCancelled() throws {
        let f = try TreeFixture()
        try f.layer(0, [file("a"), file("b")])
        let fd = try f.makeDirectory("rootfs")
        defer { close(fd) }
        #expect(throws: BundleError.interrupted(signal: SIGINT)) {
            try BundleWriter.write(tree: f.tree, spill: f.spill, into: fd, rootless: false) { SIGINT }
        }
    }

    @Test(arguments: [".", "..", "", "a/b", "nul\u{0}"])
    func namesThatAreNotOneEntryAreRefused(name: String) {
        #expect(throws: BundleError.unsafeName("/x/" + name)) { try BundleWriter.check(Array(name.utf8), [Array("x".utf8), Array(name.utf8)]) }
    }
}
