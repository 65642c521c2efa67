@testable import Bundle
import Foundation
import Testing

@Suite("BundleOutput") struct BundleOutputTests {
    private func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "/bundle-output-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private func fill(_ fd: Int32) {
        _ = mkdirat(fd, "rootfs", 0o555)
        let file = openat(fd, "config.json", O_WRONLY | O_CREAT | O_EXCL, 0o644)
        close(file)
    }

    @Test func commitMovesTheFolderIntoPlace() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let output = try BundleOutput(target: base + "/b", force: false)
        let fd = try output.create()
        fill(fd)
        close(fd)
        try output.commit()
        #expect(try FileManager.default.contentsOfDirectory(atPath: base) == ["b"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: base + "/b").sorted() == ["config.json", "rootfs"])
    }

    @Test func discardLeavesNothing() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        do {
            let output = try BundleOutput(target: base + "/b", force: false)
            let fd = try output.create()
            fill(fd)
            close(fd)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: base).isEmpty)
    }

    @Test func nonEmptyOutputNeedsForce() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base + "/b/old", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: base + "/b/old/host", withDestinationPath: base + "/keep")
        _ = FileManager.default.createFile(atPath: base + "/keep", contents: Data("keep".utf8))
        #expect(throws: BundleError.outputNotEmpty(base + "/b")) { try BundleOutput(target: base + "/b", force: false) }
        let output = try BundleOutput(target: base + "/b", force: true)
        let fd = try output.create()
        fill(fd)
        close(fd)
        try output.commit()
        #expect(try FileManager.default.contentsOfDirectory(atPath: base).sorted() == ["b", "keep"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: base + "/b").sorted() == ["config.json", "rootfs"])
        #expect(FileManager.default.contents(atPath: base + "/keep") == Data("keep".utf8))
    }

    @Test func aFileInTheWayNeedsForce() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        _ = FileManager.default.createFile(atPath: base + "/b", contents: Data("x".utf8))
        #expect(throws: BundleError.outputNotDirectory(base + "/b")) { try BundleOutput(target: base + "/b", force: false) }
        let output = try BundleOutput(target: base + "/b/", force: true)
        close(try output.create())
        try output.commit()
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: base + "/b", isDirectory: &isDirectory) && isDirectory.boolValue)
    }

    @Test(arguments: ["/", "", ".", "..", "x/..", "x/."])
    func namesThatCannotBeANewFolder(target: String) {
        #expect(throws: BundleError.invalidOutput(target)) { try BundleOutput(target: target, force: true) }
    }
}
