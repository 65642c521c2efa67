/// A stream of bytes read front to back: a file, a member of an archive, a decompressed layer.
/// Sources are single-consumer and not thread-safe.
public protocol ByteSource: AnyObject {
    /// Reads up to `buffer.count` bytes into `buffer`; returns 0 at the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// Moves forward up to `count` bytes without returning them; returns how many were skipped
    /// (0 when the source cannot skip, and the caller must read instead).
    func skip(_ count: Int64) throws -> Int64
}

extension ByteSource {
    public func skip(_ count: Int64) throws -> Int64 { 0 }

    /// Reads and discards everything left.
    public func drain() throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        while try read(into: buffer) > 0 {}
    }

    /// Reads the whole rest of the stream, refusing more than `limit` bytes.
    public func readAll(limit: Int) throws -> [UInt8] {
        var result: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = try read(into: buffer)
            if n == 0 { return result }
            guard result.count + n <= limit else { throw ArchiveError(message: "document larger than \(limit) bytes") }
            result.append(contentsOf: buffer[0..<n])
        }
    }
}

/// Bytes already in memory, read front to back.
public final class MemorySource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
        offset += n
        return n
    }
}
