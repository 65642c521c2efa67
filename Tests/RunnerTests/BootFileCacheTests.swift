import Foundation
@testable import Runner
import Testing

/// The boot files `run` keeps per disk file: found again for the same file, never for a file
/// that was written since (even with its size and modification time put back).
@Suite struct BootFileCacheTests {
    static func folder(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "oci2disk-bootcache-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Boot files as `extract` leaves them: a scratch folder holding a kernel and an initramfs.
    static func extracted(in root: String, kernel: String, initrd: String) throws -> BootFiles {
        let scratch = root + "/scratch-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        try Data(kernel.utf8).write(to: URL(fileURLWithPath: scratch + "/vmlinuz"))
        try Data(initrd.utf8).write(to: URL(fileURLWithPath: scratch + "/initrd.img"))
        return BootFiles(bzImage: scratch + "/vmlinuz", initrd: scratch + "/initrd.img", commandLine: "root=x quiet", scratch: scratch)
    }

    @Test func theSameDiskFileFindsItsFiles() throws {
        let root = try Self.folder("same")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let disk = root + "/disk.img", cache = root + "/cache"
        try Data(repeating: 1, count: 4096).write(to: URL(fileURLWithPath: disk))
        #expect(BootFileCache.lookup(disk: disk, cacheDirectory: cache) == nil)
        let files = try Self.extracted(in: root, kernel: "K1", initrd: "I1")
        let stored = BootFileCache.store(files, disk: disk, cacheDirectory: cache)
        #expect(!FileManager.default.fileExists(atPath: files.scratch!), "the scratch copy moved into the cache")
        let found = try #require(BootFileCache.lookup(disk: disk, cacheDirectory: cache))
        #expect(found.kernel == stored.kernel && found.commandLine == "root=x quiet" && found.uncompressedKernel == nil)
        #expect(try String(contentsOfFile: found.kernel, encoding: .utf8) == "K1")
        #expect(try String(contentsOfFile: found.initrd, encoding: .utf8) == "I1")
        found.remove()
        #expect(FileManager.default.fileExists(atPath: found.initrd), "remove() never deletes cached files")
    }

    @Test func aRewrittenDiskMissesEvenWithItsOldSizeAndTime() throws {
        let root = try Self.folder("rewritten")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let disk = root + "/disk.img", cache = root + "/cache"
        try Data(repeating: 1, count: 4096).write(to: URL(fileURLWithPath: disk))
        _ = BootFileCache.store(try Self.extracted(in: root, kernel: "K1", initrd: "I1"), disk: disk, cacheDirectory: cache)
        let before = try FileManager.default.attributesOfItem(atPath: disk)
        usleep(20_000)
        // Same inode, same size, modification time put back: only the change time differs.
        let handle = try #require(FileHandle(forWritingAtPath: disk))
        try handle.write(contentsOf: Data(repeating: 2, count: 4096))
        try handle.close()
        try FileManager.default.setAttributes([.modificationDate: before[.modificationDate]!], ofItemAtPath: disk)
        #expect((try FileManager.default.attributesOfItem(atPath: disk))[.systemFileNumber] as? Int == before[.systemFileNumber] as? Int)
        #expect(BootFileCache.lookup(disk: disk, cacheDirectory: cache) == nil)
    }

    @Test func keepsOnlyTheMostRecentlyUsedEntries() throws {
        let root = try Self.folder("prune")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = root + "/cache"
        var disks: [String] = []
        for index in 0...BootFileCache.kept {
            let disk = root + "/disk\(index).img"
            try Data([UInt8(index)]).write(to: URL(fileURLWithPath: disk))
            disks.append(disk)
            _ = BootFileCache.store(try Self.extracted(in: root, kernel: "K\(index)", initrd: "I"), disk: disk, cacheDirectory: cache)
            usleep(20_000)  // distinct use times
        }
        #expect(BootFileCache.lookup(disk: disks[0], cacheDirectory: cache) == nil, "the least recently used entry went")
        for disk in disks.dropFirst() { #expect(BootFileCache.lookup(disk: disk, cacheDirectory: cache) != nil) }
    }
}
