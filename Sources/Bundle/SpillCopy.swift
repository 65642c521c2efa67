import SystemBase
import Flatten
#if canImport(Glibc)
import Glibc
#endif

/// A regular file's bytes, from the spill file into the file being written: each run moved
/// in-kernel (copy_file_range), nothing written between runs, so holes stay holes.
final class SpillCopy {
    let spill: SpillFile
    let isCancelled: () -> Int32?
    /// One for the whole bundle: where the kernel cannot copy between these two filesystems,
    /// that is found out once, not once per file.
    private var copier = RangeCopier()

    init(spill: SpillFile, isCancelled: @escaping () -> Int32?) {
        self.spill = spill
        self.isCancelled = isCancelled
    }

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
        // In pieces, so that a stop request is seen within one piece of a large file.
        while done < length {
            if let signal = isCancelled() { throw BundleError.interrupted(signal: signal) }
            let piece = min(length - done, 64 << 20)
            do { try copier.copy(from: spill.descriptor, at: source + done, to: fd, at: target + done, length: piece, "\(display()): write") } catch {
                throw BundleError(error)
            }
            done += piece
        }
    }
}
