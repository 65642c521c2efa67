import Archive
@testable import Ext4
import Flatten
import Foundation
import Testing

final class Blocks: EntryData {
    var blocks: [(Int64, [UInt8])]
    /// The block handed out last: valid until the next call, as libarchive's are (a pointer
    /// out of `withUnsafeBytes` would not be valid even that long).
    private var current = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    deinit { current.deallocate() }
    init(_ blocks: [(Int64, [UInt8])]) { self.blocks = blocks }
    func nextBlock() throws -> (offset: Int64, bytes: UnsafeRawBufferPointer)? {
        guard !blocks.isEmpty else { return nil }
        let (offset, bytes) = blocks.removeFirst()
        current.deallocate()
        current = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
        current.copyBytes(from: bytes)
        return (offset, UnsafeRawBufferPointer(current))
    }
}

let e2fsck = ["/usr/sbin/e2fsck", "/sbin/e2fsck"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// A tree with one of everything ext4 has to encode, written to an image file.
struct Fixture {
    let directory: URL
    let image: String
    let spill: SpillFile
    let tree: FileTree

    init(bigDirectory: Int = 0) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ext4-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        image = directory.appendingPathComponent("fs.img").path
        spill = try SpillFile(directory: directory.path)
        tree = FileTree(defaultTime: 1_700_000_000)
        let applier = LayerApplier(tree: tree, spill: spill)
        applier.beginLayer(0)
        func add(_ entry: ArchiveEntry, _ blocks: [(Int64, [UInt8])] = []) throws { try applier.apply(entry, data: Blocks(blocks)) }
        try add(ArchiveEntry(path: Array("etc".utf8), kind: .directory, permissions: 0o755, mtimeSeconds: 1))
        try add(
            ArchiveEntry(
                path: Array("etc/hello".utf8), kind: .regular, permissions: 0o4755, uid: 70000, gid: 80000, size: 5,
                mtimeSeconds: -1_000_000_000, mtimeNanoseconds: 123_456_789,
                xattrs: [
                    Xattr(name: "user.note", value: Array("hi".utf8)),
                    Xattr(name: "security.capability", value: [1, 0, 0, 2] + [UInt8](repeating: 0, count: 16))
                ]),
            [(0, Array("hello".utf8))])
        try add(ArchiveEntry(path: Array("etc/link".utf8), kind: .hardlink, linkTarget: Array("etc/hello".utf8)))
        try add(ArchiveEntry(path: Array("future".utf8), kind: .regular, size: 1, mtimeSeconds: 4_000_000_000, mtimeNanoseconds: 1), [(0, [1])])
        try add(ArchiveEntry(path: Array("fast".utf8), kind: .symlink, permissions: 0o777, linkTarget: Array("etc/hello".utf8)))
        try add(ArchiveEntry(path: Array("slow".utf8), kind: .symlink, permissions: 0o777, linkTarget: [UInt8](repeating: UInt8(ascii: "s"), count: 4095)))
        try add(ArchiveEntry(path: Array("null".utf8), kind: .characterDevice, permissions: 0o666, deviceMajor: 1, deviceMinor: 3))
        try add(ArchiveEntry(path: Array("big".utf8), kind: .blockDevice, permissions: 0o600, deviceMajor: 259, deviceMinor: 70000))
        try add(ArchiveEntry(path: Array("pipe".utf8), kind: .fifo, permissions: 0o600))
        // Every other block written: 3000 extents, an extent tree two levels deep.
        let block = [UInt8](repeating: 0xAB, count: 4096)
        try add(
            ArchiveEntry(path: Array("sparse".utf8), kind: .regular, size: 6000 * 4096),
            stride(from: 0, to: 6000, by: 2).map { (Int64($0) * 4096, block) })
        for i in 0..<bigDirectory {
            try add(ArchiveEntry(path: Array("many/entry-number-\(i)".utf8), kind: .regular, size: 0))
        }
    }

    func write(label: String = "root") throws -> Ext4Summary {
        let parameters = Ext4Parameters(label: label, uuid: Array(0..<16), hashSeed: Array(16..<32), timestamp: 1_700_000_000)
        let requirements = Ext4Requirements(tree: tree)
        let blocks = try Ext4Sizing.minimumBlocks(for: requirements, parameters: parameters)
        #expect(FileManager.default.createFile(atPath: image, contents: nil))
        truncate(image, off_t(blocks) * 4096)
        return try Ext4Writer.write(tree: tree, spill: spill, path: image, offset: 0, blocks: blocks, requirements: requirements, parameters: parameters)
    }

    func fsck() throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: e2fsck!)
        process.arguments = ["-fn", image]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

@Suite(.enabled(if: e2fsck != nil, "needs e2fsck (e2fsprogs)"))
struct Ext4WriterTests {
    @Test func everyKindOfFileRoundTripsAndFsckIsClean() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        _ = try fixture.write()
        let (status, output) = try fixture.fsck()
        #expect(status == 0, "\(output)")

        let entries = try Ext4Reader(path: fixture.image, offset: 0).entries()
        let byPath = Dictionary(uniqueKeysWithValues: entries.map { (String(decoding: $0.path, as: UTF8.self), $0) })
        let hello = try #require(byPath["/etc/hello"])
        #expect(hello.permissions == 0o4755)
        #expect(hello.uid == 70000 && hello.gid == 80000)
        #expect(hello.mtimeSeconds == -1_000_000_000 && hello.mtimeNanoseconds == 123_456_789)
        #expect(hello.links == 2)
        #expect(hello.xattrNames == ["security.capability", "user.note"])
        #expect(byPath["/etc/link"]?.inode == hello.inode)
        #expect(byPath["/future"]?.mtimeSeconds == 4_000_000_000)
        #expect(byPath["/fast"]?.linkTarget == Array("etc/hello".utf8))
        #expect(byPath["/slow"]?.linkTarget?.count == 4095)
        #expect(byPath["/null"]?.device?.major == 1 && byPath["/null"]?.device?.minor == 3)
        #expect(byPath["/big"]?.device?.major == 259 && byPath["/big"]?.device?.minor == 70000)
        #expect(byPath["/pipe"]?.kind == .fifo)
        let sparse = try #require(byPath["/sparse"])
        #expect(sparse.size == 6000 * 4096)
        // 3000 data blocks plus a handful of extent tree blocks: the holes stayed holes.
        #expect(sparse.allocatedBlocks >= 3000 && sparse.allocatedBlocks < 3020)
        let reader = try Ext4Reader(path: fixture.image, offset: 0)
        let data = try reader.readFile(sparse.inode, limit: 3 * 4096)
        #expect(data[0] == 0xAB && data[4096] == 0 && data[8192] == 0xAB)
    }

    @Test(arguments: [600, 80_000])
    func largeDirectoriesAreHashedAndComplete(count: Int) throws {
        let fixture = try Fixture(bigDirectory: count)
        defer { fixture.remove() }
        _ = try fixture.write()
        let (status, output) = try fixture.fsck()
        #expect(status == 0, "\(output)")
        let names = try Ext4Reader(path: fixture.image, offset: 0).entries().filter { $0.path.starts(with: Array("/many/".utf8)) }
        #expect(names.count == count)
    }

    @Test func sameTreeGivesTheSameBytes() throws {
        let first = try Fixture(), second = try Fixture()
        defer { first.remove(); second.remove() }
        _ = try first.write()
        _ = try second.write()
        #expect(FileManager.default.contentsEqual(atPath: first.image, andPath: second.image))
    }
}

@Suite struct LayoutTests {
    @Test func extentTreeDepthGrowsWithExtents() {
        #expect(ExtentTree.nodeBlocks(forExtents: 4) == 0)
        #expect(ExtentTree.nodeBlocks(forExtents: 5) == 1)
        #expect(ExtentTree.nodeBlocks(forExtents: 4 * 340) == 4)
        #expect(ExtentTree.nodeBlocks(forExtents: 4 * 340 + 1) == 6)
    }

    @Test func timesKeepEpochBits() {
        for (seconds, nanos) in [(Int64(-1), UInt32(5)), (0, 0), (Int64(Int32.max) + 1, 999_999_999), (-2_147_483_648, 1), (15_000_000_000, 7)] {
            let (low, extra) = InodeRecord.encodeTime(seconds, nanos)
            let (s, n) = InodeRecord.decodeTime(low, extra)
            #expect(s == seconds && n == nanos)
        }
    }

    @Test func linearBlockEndsWithChecksumTail() throws {
        let layout = try DirectoryBlocks(
            selfInode: 12, parentInode: 2, records: [DirectoryRecord(name: Array("a".utf8), inode: 13, fileType: 1)],
            path: "/d", hash: { _ in (0, 0) })
        #expect(!layout.indexed)
        let block = layout.blocks[0]
        #expect(block.loadLE(UInt32.self, at: 0) == 12)
        #expect(block.loadLE(UInt16.self, at: 4) == 12)
        #expect(block.loadLE(UInt32.self, at: 12) == 2)
        #expect(block.loadLE(UInt16.self, at: 24 + 4) == UInt16(4096 - 12 - 24))
        #expect(block.loadLE(UInt16.self, at: 4084 + 4) == 12)
        #expect(block[4084 + 7] == 0xDE)
    }
}
