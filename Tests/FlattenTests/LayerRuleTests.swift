import Archive
import Flatten
import Foundation
import Testing

/// Entry data held in memory, handed out in small blocks like libarchive does.
final class MemoryData: EntryData {
    var blocks: [(Int64, [UInt8])]
    /// The block handed out last: valid until the next call, as libarchive's are (a pointer
    /// out of `withUnsafeBytes` would not be valid even that long).
    private var current = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    deinit { current.deallocate() }
    init(_ bytes: [UInt8], blockSize: Int = 1000) {
        blocks = stride(from: 0, to: bytes.count, by: blockSize).map { (Int64($0), Array(bytes[$0..<min($0 + blockSize, bytes.count)])) }
    }
    func nextBlock() throws -> (offset: Int64, bytes: UnsafeRawBufferPointer)? {
        guard !blocks.isEmpty else { return nil }
        let (offset, bytes) = blocks.removeFirst()
        current.deallocate()
        current = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
        current.copyBytes(from: bytes)
        return (offset, UnsafeRawBufferPointer(current))
    }
}

/// Builds trees from entries and reads them back by path.
final class Harness {
    let tree = FileTree(defaultTime: 1000)
    let spill: SpillFile
    let applier: LayerApplier

    init() throws {
        spill = try SpillFile(directory: NSTemporaryDirectory())
        applier = LayerApplier(tree: tree, spill: spill)
    }

    func layer(_ index: Int, _ entries: [(ArchiveEntry, [UInt8])]) throws {
        applier.beginLayer(index)
        for (entry, data) in entries { try applier.apply(entry, data: MemoryData(data)) }
    }

    func lookup(_ path: String) -> Inode? {
        var inode = tree.root
        for part in path.split(separator: "/") {
            guard case .directory(let directory) = inode.content, let child = directory.children[Array(part.utf8)] else { return nil }
            inode = child.inode
        }
        return inode
    }

    func contents(_ path: String) throws -> [UInt8]? {
        guard case .regular(let file)? = lookup(path)?.content else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(file.size))
        for run in file.runs {
            let length = Int(run.count) * SpillFile.blockSize
            var block = [UInt8](repeating: 0, count: length)
            _ = block.withUnsafeMutableBytes { pread(spill.descriptor, $0.baseAddress, length, off_t(run.spillBlock) * 4096) }
            for i in 0..<length where Int(run.fileBlock) * 4096 + i < bytes.count { bytes[Int(run.fileBlock) * 4096 + i] = block[i] }
        }
        return bytes
    }

    func names(_ path: String) -> [String] {
        guard case .directory(let directory)? = lookup(path)?.content else { return [] }
        return directory.sortedNames.map { String(decoding: $0, as: UTF8.self) }
    }
}

func file(_ path: String, _ text: String = "x", mode: UInt16 = 0o644) -> (ArchiveEntry, [UInt8]) {
    (ArchiveEntry(path: Array(path.utf8), kind: .regular, permissions: mode, size: Int64(text.utf8.count)), Array(text.utf8))
}
func dir(_ path: String, mode: UInt16 = 0o755, mtime: Int64 = 5) -> (ArchiveEntry, [UInt8]) {
    (ArchiveEntry(path: Array(path.utf8), kind: .directory, permissions: mode, mtimeSeconds: mtime), [])
}
func symlink(_ path: String, _ target: String) -> (ArchiveEntry, [UInt8]) {
    (ArchiveEntry(path: Array(path.utf8), kind: .symlink, permissions: 0o777, linkTarget: Array(target.utf8)), [])
}
func hardlink(_ path: String, _ target: String) -> (ArchiveEntry, [UInt8]) {
    (ArchiveEntry(path: Array(path.utf8), kind: .hardlink, linkTarget: Array(target.utf8)), [])
}

@Suite struct WhiteoutTests {
    @Test func whiteoutHidesOnlyLowerLayersWhereverItStands() throws {
        let h = try Harness()
        try h.layer(0, [file("a", "lower"), file("b")])
        // The whiteout comes after this layer's own "a": it must not remove it.
        try h.layer(1, [file("a", "upper"), file(".wh.a"), file(".wh.b")])
        #expect(try h.contents("a") == Array("upper".utf8))
        #expect(h.lookup("b") == nil)
        #expect(h.lookup(".wh.a") == nil)
    }

    @Test func opaqueDirectoryKeepsOnlyThisLayersEntries() throws {
        let h = try Harness()
        try h.layer(0, [dir("d"), file("d/old"), dir("d/sub"), file("d/sub/deep")])
        try h.layer(1, [file("d/new"), file("d/.wh..wh..opq")])
        #expect(h.names("d") == ["new"])
        #expect(h.lookup("d") != nil)
    }

    @Test func whiteoutOfDirectoryKeepsWhatThisLayerPutInside() throws {
        let h = try Harness()
        try h.layer(0, [dir("d"), file("d/old")])
        try h.layer(1, [dir("d"), file("d/new"), file(".wh.d")])
        #expect(h.names("d") == ["new"])
    }

    @Test func whiteoutInMissingDirectoryIsIgnored() throws {
        let h = try Harness()
        try h.layer(0, [file("missing/.wh.x")])
        #expect(h.lookup("missing") == nil)
    }

    @Test func deletedFilesGiveTheirLinkCountBack() throws {
        let h = try Harness()
        try h.layer(0, [file("a"), hardlink("b", "a")])
        #expect(h.lookup("a")?.linkCount == 2)
        try h.layer(1, [file(".wh.b")])
        #expect(h.lookup("a")?.linkCount == 1)
    }
}

@Suite struct ReplacementTests {
    @Test func directoryOverDirectoryUpdatesMetadataAndKeepsChildren() throws {
        let h = try Harness()
        try h.layer(0, [dir("d", mode: 0o700), file("d/f")])
        try h.layer(1, [dir("d", mode: 0o1777, mtime: 99)])
        #expect(h.lookup("d")?.metadata.permissions == 0o1777)
        #expect(h.lookup("d")?.metadata.mtimeSeconds == 99)
        #expect(h.names("d") == ["f"])
    }

    @Test func fileReplacesDirectoryAndDirectoryReplacesFile() throws {
        let h = try Harness()
        try h.layer(0, [dir("x"), file("x/child"), file("y")])
        try h.layer(1, [file("x", "now a file"), dir("y")])
        #expect(try h.contents("x") == Array("now a file".utf8))
        #expect(h.lookup("y")?.isDirectory == true)
    }

    @Test func symlinkReplacesFile() throws {
        let h = try Harness()
        try h.layer(0, [file("s")])
        try h.layer(1, [symlink("s", "target")])
        guard case .symlink(let target)? = h.lookup("s")?.content else { Issue.record("not a symlink"); return }
        #expect(target == Array("target".utf8))
    }

    @Test func impliedParentsAreRootOwned0755() throws {
        let h = try Harness()
        try h.layer(0, [file("a/b/c", mode: 0o600)])
        #expect(h.lookup("a")?.metadata.permissions == 0o755)
        #expect(h.lookup("a/b")?.metadata.uid == 0)
        #expect(h.lookup("a/b")?.metadata.mtimeSeconds == 1000)
    }

    @Test func parentSymlinksResolveInsideTheTree() throws {
        let h = try Harness()
        try h.layer(0, [dir("usr"), dir("usr/bin"), symlink("bin", "usr/bin"), symlink("abs", "/usr/../usr/bin")])
        try h.layer(1, [file("bin/foo", "via link"), file("abs/bar")])
        #expect(try h.contents("usr/bin/foo") == Array("via link".utf8))
        #expect(h.lookup("usr/bin/bar") != nil)
        #expect(h.names("") == ["abs", "bin", "usr"])
    }

    @Test func escapingSymlinksStayInsideTheRoot() throws {
        let h = try Harness()
        try h.layer(0, [symlink("up", "../../../../etc")])
        try h.layer(1, [file("up/passwd", "inside")])
        #expect(try h.contents("etc/passwd") == Array("inside".utf8))
    }

    @Test func symlinkLoopsFail() throws {
        let h = try Harness()
        try h.layer(0, [symlink("a", "b"), symlink("b", "a")])
        #expect(throws: FlattenError.symlinkLoop("a/x")) { try h.layer(1, [file("a/x")]) }
    }
}

@Suite struct HardLinkTests {
    @Test func linksShareAnInodeAndSurviveReplacement() throws {
        let h = try Harness()
        try h.layer(0, [file("a", "original"), hardlink("b", "a")])
        #expect(h.lookup("a") === h.lookup("b"))
        try h.layer(1, [file("a", "replaced")])
        #expect(try h.contents("b") == Array("original".utf8))
        #expect(try h.contents("a") == Array("replaced".utf8))
    }

    @Test func linkToSymlinkLinksTheSymlinkItself() throws {
        let h = try Harness()
        try h.layer(0, [symlink("s", "nowhere"), hardlink("t", "s")])
        #expect(h.lookup("t") === h.lookup("s"))
    }

    @Test func badTargetsFail() throws {
        let h = try Harness()
        try h.layer(0, [dir("d")])
        #expect(throws: FlattenError.hardLinkTargetMissing(entry: "x", target: "nope")) { try h.layer(0, [hardlink("x", "nope")]) }
        #expect(throws: FlattenError.hardLinkToDirectory(entry: "y", target: "d")) { try h.layer(0, [hardlink("y", "d")]) }
    }
}

@Suite struct HostileNameTests {
    @Test(arguments: ["/etc/passwd", "../escape", "a/../../b", "a/.."])
    func refusesNamesThatLeaveTheRoot(_ name: String) throws {
        let h = try Harness()
        #expect(throws: FlattenError.self) { try h.layer(0, [file(name)]) }
    }

    @Test func refusesNamesOver255Bytes() throws {
        let h = try Harness()
        let long = String(repeating: "n", count: 256)
        #expect(throws: FlattenError.nameTooLong(long)) { try h.layer(0, [file(long)]) }
        try h.layer(0, [file(String(repeating: "n", count: 255))])
    }

    @Test func acceptsAnyBytesButSlashAndNul() throws {
        let h = try Harness()
        let name: [UInt8] = [0xFF, 0xFE, UInt8(ascii: "x"), 0x0A]
        try h.applier.apply(ArchiveEntry(path: name, kind: .regular), data: MemoryData([]))
        guard case .directory(let root) = h.tree.root.content else { return }
        #expect(root.children[name] != nil)
    }
}

@Suite struct FileDataTests {
    @Test func zeroBlocksBecomeHolesAndDataSurvives() throws {
        let h = try Harness()
        var bytes = [UInt8](repeating: 0, count: 3 * 4096 + 100)
        bytes[4096 + 5] = 7
        bytes[3 * 4096 + 99] = 9
        try h.layer(0, [(ArchiveEntry(path: Array("f".utf8), kind: .regular, size: Int64(bytes.count)), bytes)])
        guard case .regular(let data)? = h.lookup("f")?.content else { Issue.record("no file"); return }
        #expect(data.allocatedBlocks == 2)
        #expect(data.runs.map(\.fileBlock) == [1, 3])
        #expect(try h.contents("f") == bytes)
    }
}

@Suite struct HostileDataTests {
    @Test func pathsLongerThanPathMaxAreRefused() throws {
        let h = try Harness()
        let deep = Array(repeating: "a", count: 2100).joined(separator: "/")
        #expect(throws: FlattenError.self) { try h.layer(0, [file(deep)]) }
    }

    @Test func sparseDataGoingBackwardsIsRefused() throws {
        let h = try Harness()
        let data = MemoryData([])
        data.blocks = [(8192, [1, 2, 3]), (0, [4, 5, 6])]
        #expect(throws: FlattenError.dataOutOfOrder("f")) {
            try h.applier.apply(ArchiveEntry(path: Array("f".utf8), kind: .regular, size: 9000), data: data)
        }
    }

    @Test func sizesBeyondExt4AreRefused() throws {
        let h = try Harness()
        #expect(throws: FlattenError.fileTooLarge("huge")) {
            try h.applier.apply(ArchiveEntry(path: Array("huge".utf8), kind: .regular, size: Int64.max - 10), data: MemoryData([]))
        }
    }
}
