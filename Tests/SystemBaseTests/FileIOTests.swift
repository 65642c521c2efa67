import Glibc
import SystemBase
import Testing

/// Descriptors, whole reads and writes, and in-kernel copies, on real files in a private folder.
@Suite struct FileIOTests {
    let folder: String

    init() throws {
        var template = Array("/tmp/systembase-XXXXXX".utf8CString)
        folder = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!)! })
    }

    func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = "\(folder)/\(name)"
        let fd = try OwnedDescriptor(opening: path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600)
        try FileIO.writeFully(fd.raw, bytes, "\(path): write")
        try fd.close("\(path): close")
        return path
    }

    @Test func readsWholeFilesAndStopsAtTheirEnd() throws {
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let path = try file("data", bytes)
        let fd = try OwnedDescriptor(opening: path, O_RDONLY)
        #expect(try FileIO.readToEnd(fd.raw, "read") == bytes)
        #expect(try FileIO.size(fd.raw, "size") == 200_000)
        var part = [UInt8](repeating: 0, count: 10)
        try part.withMutableSystemBytes { (buffer) throws(SystemError) in try FileIO.readFully(fd.raw, into: buffer, at: 1000, "read") }
        #expect(part == Array(bytes[1000..<1010]))
        #expect(throws: SystemError.endOfFile("\(path): read")) {
            try part.withMutableSystemBytes { (buffer) throws(SystemError) in
                try FileIO.readFully(fd.raw, into: buffer, at: 199_995, "\(path): read")
            }
        }
    }

    @Test func aFailedOpenCarriesItsErrno() {
        #expect(throws: SystemError.call("\(folder)/missing: open", errno: ENOENT)) {
            _ = try OwnedDescriptor(opening: "\(folder)/missing", O_RDONLY)
        }
    }

    @Test func closingTwiceIsImpossibleAndAReleasedDescriptorStaysOpen() throws {
        let path = try file("x", [1, 2, 3])
        let owned = try OwnedDescriptor(opening: path, O_RDONLY)
        let raw = owned.release()
        #expect(fcntl(raw, F_GETFD) >= 0)
        close(raw)
        #expect(fcntl(raw, F_GETFD) == -1)
    }

    /// Both paths of the copier give the same bytes; holes in the source read as zeros.
    @Test(arguments: [true, false]) func copiesRanges(kernel: Bool) throws {
        let bytes = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 / 3) }
        let source = try OwnedDescriptor(opening: try file("source", bytes), O_RDONLY)
        let targetPath = "\(folder)/target-\(kernel)"
        let target = try OwnedDescriptor(opening: targetPath, O_RDWR | O_CREAT | O_TRUNC, mode: 0o600)
        var copier = RangeCopier(kernelCopy: kernel)
        try copier.copy(from: source.raw, at: 100, to: target.raw, at: 4096, length: 2_500_000, "copy")
        let copied = try FileIO.readToEnd(target.raw, "read")
        #expect(copied.count == 4096 + 2_500_000)
        #expect(copied.prefix(4096).allSatisfy { $0 == 0 })
        #expect(Array(copied[4096...]) == Array(bytes[100..<2_500_100]))
        #expect(throws: SystemError.endOfFile("copy past the end")) {
            try copier.copy(from: source.raw, at: 2_999_000, to: target.raw, at: 0, length: 2000, "copy past the end")
        }
    }

    @Test func findsExecutablesOnlyWhereItIsTold() throws {
        #expect(Executable.find("sh", in: "/nonexistent:/bin") == "/bin/sh")
        #expect(Executable.find("sh", in: "/nonexistent") == nil)
        let notExecutable = try file("tool", Array("#!/bin/sh\n".utf8))
        #expect(Executable.find("tool", in: folder) == nil)
        chmod(notExecutable, 0o755)
        #expect(Executable.find("tool", in: folder) == notExecutable)
        #expect(Executable.find(folder, in: "/bin") == nil)  // a folder is not a program
    }
}
