import Disk
import Foundation
import Testing

/// Scratch files and folders in shared places: exclusive, private, unguessable.
@Suite struct PrivateTemporaryTests {
    static func mode(_ path: String) -> Int {
        var info = stat()
        #expect(lstat(path, &info) == 0)
        return Int(info.st_mode & 0o7777)
    }

    @Test func filesAre0600AndFoldersAre0700WithFreshNames() throws {
        let base = NSTemporaryDirectory()
        let first = try PrivateTemporary.file(in: base, prefix: "oci2disk-test")
        let second = try PrivateTemporary.file(in: base, prefix: "oci2disk-test")
        let folder = try PrivateTemporary.directory(in: base, prefix: "oci2disk-test")
        defer { unlink(first); unlink(second); rmdir(folder) }
        #expect(first != second)
        #expect(Self.mode(first) == 0o600 && Self.mode(second) == 0o600)
        #expect(Self.mode(folder) == 0o700)
    }

    @Test func aMissingFolderIsATypedError() {
        #expect(throws: DiskError.self) { try PrivateTemporary.file(in: "/nonexistent-\(UUID().uuidString)", prefix: "x") }
        #expect(throws: DiskError.self) { try PrivateTemporary.directory(in: "/nonexistent-\(UUID().uuidString)", prefix: "x") }
    }
}

/// The qcow2 header fields that name data outside the file.
@Suite struct QCOW2ReferencesTests {
    static func header(version: UInt32 = 3, backing: String? = nil, incompatible: UInt64 = 0, dataFile: String? = nil) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 4096)
        func put32(_ value: UInt32, _ at: Int) { for i in 0..<4 { bytes[at + i] = UInt8(value >> (24 - 8 * i) & 0xFF) } }
        func put64(_ value: UInt64, _ at: Int) { put32(UInt32(value >> 32), at); put32(UInt32(value & 0xFFFF_FFFF), at + 4) }
        bytes.replaceSubrange(0..<4, with: [0x51, 0x46, 0x49, 0xFB])
        put32(version, 4)
        put64(incompatible, 72)
        put32(104, 100)
        var at = 104
        if let dataFile {
            put32(0x4441_5441, at); put32(UInt32(dataFile.utf8.count), at + 4)
            bytes.replaceSubrange((at + 8)..<(at + 8 + dataFile.utf8.count), with: Array(dataFile.utf8))
            at += 8 + (dataFile.utf8.count + 7) / 8 * 8
        }
        if let backing {
            put64(1024, 8); put32(UInt32(backing.utf8.count), 16)
            bytes.replaceSubrange(1024..<(1024 + backing.utf8.count), with: Array(backing.utf8))
        }
        return bytes
    }

    @Test func selfContainedBackedAndExternal() throws {
        #expect(try QCOW2References.parse(Self.header(), path: "d")?.isSelfContained == true)
        #expect(try QCOW2References.parse(Self.header(backing: "/home/u/.ssh/id_rsa"), path: "d")?.backingFile == "/home/u/.ssh/id_rsa")
        #expect(try QCOW2References.parse(Self.header(version: 2, backing: "http://x/y"), path: "d")?.backingFile == "http://x/y")
        let external = try #require(try QCOW2References.parse(Self.header(incompatible: 4, dataFile: "data.raw"), path: "d"))
        #expect(external.externalDataFile == "data.raw" && external.hasExternalData)
        #expect(try QCOW2References.parse(Array("not qcow2".utf8), path: "d") == nil)
    }

    @Test func aBackingNameOutsideTheHeaderIsStillABackingFile() throws {
        var bytes = Self.header(backing: "x")
        bytes.replaceSubrange(8..<16, with: [0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        #expect(try QCOW2References.parse(bytes, path: "d")?.isSelfContained == false)
        #expect(throws: DiskError.self) { try QCOW2References.parse(Array(bytes.prefix(10)), path: "d") }
    }
}
