import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// Copies byte ranges between files in the kernel (copy_file_range: no trip through this
/// process, and a shared extent on filesystems that clone), through a buffer where the
/// kernel cannot. The one fallback rule: an errno that means "not between these files"
/// switches this copier to plain reads and writes for good; any other errno is an error.
public struct RangeCopier: ~Copyable {
    /// errnos that copy_file_range gives for a pair of files it cannot handle (different
    /// filesystem types before 5.19, a filesystem without support, an old kernel, a special
    /// file, an O_APPEND target), not for a failing disk. The plain path reports real errors.
    static let unsupported: Set<Int32> = [EXDEV, EINVAL, ENOSYS, EOPNOTSUPP, EPERM, EBADF, ETXTBSY]

    private var kernelCopy: Bool
    private var buffer: UnsafeMutableRawBufferPointer?

    /// `kernelCopy: false` always copies through the buffer (for tests of that path).
    public init(kernelCopy: Bool = true) { self.kernelCopy = kernelCopy }

    deinit { buffer?.deallocate() }

    /// Copies `length` bytes from `source` at `sourceOffset` to `target` at `targetOffset`.
    /// `source` must hold them: a shorter one is `.endOfFile`.
    public mutating func copy(
        from source: Int32, at sourceOffset: Int64, to target: Int32, at targetOffset: Int64, length: Int64,
        _ what: @autoclosure () -> String
    ) throws(SystemError) {
        var done: Int64 = 0
        while kernelCopy, done < length {
            let n = linux_copy_file_range(source, sourceOffset + done, target, targetOffset + done, Int(min(length - done, 1 << 30)))
            if n > 0 { done += Int64(n); continue }
            if n == 0 { throw .endOfFile(what()) }
            let code = errno
            if code == EINTR { continue }
            guard Self.unsupported.contains(code) else { throw .call(what(), errno: code) }
            kernelCopy = false
        }
        guard done < length else { return }
        let chunk = plainBuffer()
        while done < length {
            let part = UnsafeMutableRawBufferPointer(rebasing: chunk[0..<Int(min(Int64(chunk.count), length - done))])
            try FileIO.readFully(source, into: part, at: sourceOffset + done, what())
            try FileIO.writeFully(target, UnsafeRawBufferPointer(part), at: targetOffset + done, what())
            done += Int64(part.count)
        }
    }

    private mutating func plainBuffer() -> UnsafeMutableRawBufferPointer {
        if let buffer { return buffer }
        let fresh = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        buffer = fresh
        return fresh
    }
}
