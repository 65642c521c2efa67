import Archive
import Foundation
import Testing

/// A ustar header for one regular file, written by hand (independent of libarchive).
func ustar(name: String, body: [UInt8], mode: String = "0000644") -> [UInt8] {
    var header = [UInt8](repeating: 0, count: 512)
    func put(_ text: String, _ offset: Int) { for (i, b) in text.utf8.enumerated() { header[offset + i] = b } }
    put(name, 0)
    put(mode, 100)
    put("0000000", 108)
    put("0000000", 116)
    put(String(body.count, radix: 8).leftPad(11), 124)
    put("00000000000", 136)
    put("        ", 148)
    header[156] = UInt8(ascii: "0")
    put("ustar", 257)
    put("00", 263)
    let sum = header.reduce(0) { $0 + Int($1) }
    put(String(sum, radix: 8).leftPad(6) + "\0 ", 148)
    let padding = (512 - body.count % 512) % 512
    return header + body + [UInt8](repeating: 0, count: padding)
}

extension String {
    func leftPad(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

@Suite struct ArchiveReaderTests {
    @Test func readsEntriesAndData() throws {
        let tar = ustar(name: "hello.txt", body: Array("hi there".utf8)) + [UInt8](repeating: 0, count: 1024)
        let reader = try ArchiveReader(source: MemorySource(tar), format: .tar, filter: .none, name: "test")
        let entry = try #require(try reader.next())
        #expect(entry.path == Array("hello.txt".utf8))
        #expect(entry.kind == .regular)
        #expect(entry.size == 8)
        let block = try #require(try reader.readBlock())
        #expect(Array(block.bytes) == Array("hi there".utf8))
        #expect(try reader.next() == nil)
    }

    @Test func emptyInputIsAnEmptyArchive() throws {
        let reader = try ArchiveReader(source: MemorySource([]), format: .tar, filter: .none, name: "empty")
        #expect(try reader.next() == nil)
    }

    @Test func sourceErrorsWinOverLibarchiveMessages() throws {
        struct Boom: Error, Equatable {}
        final class Failing: ByteSource {
            func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { throw Boom() }
        }
        #expect(throws: Boom()) { _ = try ArchiveReader(source: Failing(), format: .tar, filter: .none, name: "x").next() }
    }

    @Test func forcedGzipRejectsPlainData() throws {
        #expect(throws: ArchiveError.self) {
            let reader = try ArchiveReader(source: MemorySource(Array("not gzip at all".utf8)), format: .raw, filter: .gzip, name: "layer")
            var buffer = [UInt8](repeating: 0, count: 64)
            _ = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
        }
    }
}
