import CShim
import Flatten
#if canImport(Glibc)
import Glibc
#endif

/// A regular file's bytes, from the spill file into the file being written: each run moved
/// in-kernel (copy_file_range), nothing written between runs, so holes stay holes.
struct SpillCopy {
    let spill: SpillFile
    let isCancelled: () -> Int32?

    /// Copies a file's runs from the spill file in-kernel; what lies between runs stays a hole.
    func copy(_ data: FileData, to fd: Int32, display: @autoclosure () -> String) throws {
        let blockSize = Int64(SpillFile.blockSize)
        for run in data.runs {
            let offset = run.fileBlock * blockSize
            let length = min(run.count * blockSize, data.size - offset)
            guard length > 0 else { continue }
            try copyRange(from: run.spillBlock * blockSize, to: offset, length: length, fd: fd, display: display())
        }
        try posix("\(display()): set size") { ftruncate(fd, off_t(data.size)) }
    }

    private func copyRange(from source: Int64, to target: Int64, length: Int64, fd: Int32, display: @autoclosure () -> String) throws {
        var done: Int64 = 0
        while done < length {
            if let signal = isCancelled() { throw BundleError.interrupted(signal: signal) }
            let chunk = Int(min(length - done, 64 << 20))
            let n = cz_copy_file_range(spill.descriptor, source + done, fd, target + done, chunk)
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                // Not the same filesystem type, or no copy_file_range: plain reads and writes.
                guard [EXDEV, EINVAL, ENOSYS, EOPNOTSUPP].contains(code) else { throw BundleError.system("\(display()): write", code) }
                try copyByHand(from: source + done, to: target + done, length: length - done, fd: fd, display: display())
                return
            }
            guard n > 0 else { throw BundleError.invalid("\(display()): temporary data ended early") }
            done += Int64(n)
        }
    }

    private func copyByHand(from source: Int64, to target: Int64, length: Int64, fd: Int32, display: @autoclosure () -> String) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        var done: Int64 = 0
        while done < length {
            let want = Int(min(Int64(buffer.count), length - done))
            let n = try posix("\(display()): read temporary data") { pread(spill.descriptor, buffer.baseAddress, want, off_t(source + done)) }
            guard n > 0 else { throw BundleError.invalid("\(display()): temporary data ended early") }
            var written = 0
            while written < n {
                written += try posix("\(display()): write") { pwrite(fd, buffer.baseAddress! + written, n - written, off_t(target + done) + off_t(written)) }
            }
            done += Int64(n)
        }
    }
}
