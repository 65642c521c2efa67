#if canImport(Glibc)
import Glibc
#endif

/// Whole reads and writes on a descriptor: the loops that retry short transfers and EINTR,
/// once. `at: nil` uses (and moves) the file position; an offset uses pread/pwrite.
public enum FileIO {
    /// One read of up to `buffer.count` bytes; 0 at the end of the file.
    public static func read(
        _ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64? = nil,
        _ what: @autoclosure () -> String
    ) throws(SystemError) -> Int {
        try systemCall(what()) {
            if let offset { pread(fd, buffer.baseAddress, buffer.count, off_t(offset)) } else { Glibc.read(fd, buffer.baseAddress, buffer.count) }
        }
    }

    /// Fills `buffer`, or throws `.endOfFile`.
    public static func readFully(
        _ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64? = nil,
        _ what: @autoclosure () -> String
    ) throws(SystemError) {
        var done = 0
        while done < buffer.count {
            let rest = UnsafeMutableRawBufferPointer(rebasing: buffer[done...])
            let n = try read(fd, into: rest, at: offset.map { $0 + Int64(done) }, what())
            if n == 0 { throw .endOfFile(what()) }
            done += n
        }
    }

    /// Writes all of `bytes`.
    public static func writeFully(
        _ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64? = nil,
        _ what: @autoclosure () -> String
    ) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            let start = bytes.baseAddress! + done, count = bytes.count - done
            done += try systemCall(what()) {
                if let offset { pwrite(fd, start, count, off_t(offset) + off_t(done)) } else { Glibc.write(fd, start, count) }
            }
        }
    }

    public static func writeFully(_ fd: Int32, _ bytes: [UInt8], at offset: Int64? = nil, _ what: @autoclosure () -> String) throws(SystemError) {
        try bytes.withSystemBytes { (buffer) throws(SystemError) in try writeFully(fd, buffer, at: offset, what()) }
    }

    /// Everything up to the end of the file (or the other end of a pipe closing).
    public static func readToEnd(_ fd: Int32, limit: Int = .max, _ what: @autoclosure () -> String) throws(SystemError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while bytes.count < limit {
            let n = try chunk.withMutableSystemBytes { (buffer) throws(SystemError) in try read(fd, into: buffer, what()) }
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }

    /// The file's size (fstat).
    public static func size(_ fd: Int32, _ what: @autoclosure () -> String) throws(SystemError) -> Int64 {
        var status = stat()
        try systemCall(what()) { fstat(fd, &status) }
        return Int64(status.st_size)
    }
}
