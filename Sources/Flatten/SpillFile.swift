import CLinux
import SystemBase
#if canImport(Glibc)
import Glibc
#endif

/// An unnamed temporary file beside the output that holds file data as layers stream by.
/// Data stays here until the filesystem is laid out, which needs the final sizes; the ext4
/// writer then moves it in-kernel (copy_file_range). Zero blocks are never stored.
public final class SpillFile {
    public static let blockSize = 4096
    /// nil once discarded.
    private var file: OwnedDescriptor?
    /// For the writers in this package that move data out in the kernel; -1 once discarded.
    package var descriptor: Int32 { file?.raw ?? -1 }
    public private(set) var blockCount: Int64 = 0
    private let directory: String

    /// Creates the file in `directory` with O_TMPFILE, so nothing is left behind even on a crash;
    /// where that is not supported, a named file unlinked at once.
    public init(directory: String) throws {
        self.directory = directory
        do { file = try OwnedDescriptor(anonymousFileIn: directory) } catch { throw FlattenError.system(error) }
    }

    /// Closes the file now: its data is dropped unwritten (it was never named). Once the
    /// filesystem holds the data, a convert lets it go, so that no later `sync()` (SYSLINUX's
    /// installer ends with one) writes back hundreds of MB no one will read.
    public func discard() {
        file = nil
    }

    /// Appends whole blocks; returns the index of the first.
    public func append(_ bytes: UnsafeRawBufferPointer) throws -> Int64 {
        precondition(bytes.count % Self.blockSize == 0)
        let first = blockCount
        do { try FileIO.writeFully(descriptor, bytes, at: first * Int64(Self.blockSize), "\(directory): writing temporary data") } catch {
            throw FlattenError.system(error)
        }
        blockCount += Int64(bytes.count / Self.blockSize)
        return first
    }

    /// Gives the disk space of a deleted file's data back early (best effort: it is freed
    /// anyway when the spill file closes).
    public func release(_ runs: [DataRun]) {
        for run in runs {
            _ = linux_punch_hole(descriptor, run.spillBlock * Int64(Self.blockSize), run.count * Int64(Self.blockSize))
        }
    }
}

/// Turns one file's data blocks (in increasing offsets, maybe with gaps) into spilled runs.
/// All-zero blocks become holes, so sparse and zero-filled files stay small on disk.
final class FileDataWriter {
    /// The largest file ext4 holds with 4 KiB blocks (2^32 blocks).
    static let maxFileSize = Int64(UInt32.max) * 4096
    private let spill: SpillFile
    private var runs: [DataRun] = []
    /// A block being filled piecewise, when data does not arrive block-aligned.
    private var staging: UnsafeMutableRawBufferPointer?
    private var stagingBlock: Int64 = -1
    private let blockSize = SpillFile.blockSize
    /// Where the data written so far ends: a block may not start before it.
    private var end: Int64 = 0

    init(spill: SpillFile) { self.spill = spill }

    deinit { staging?.deallocate() }

    /// Returns false when `offset` goes backwards (a corrupt sparse map).
    func write(offset: Int64, bytes: UnsafeRawBufferPointer) throws -> Bool {
        guard offset >= end, offset <= Self.maxFileSize - Int64(bytes.count) else { return false }
        end = offset + Int64(bytes.count)
        var offset = offset
        var rest = bytes
        while !rest.isEmpty {
            let block = offset / Int64(blockSize)
            let within = Int(offset % Int64(blockSize))
            if within != 0 || rest.count < blockSize || block == stagingBlock {
                // Partial block: gather it in the staging buffer.
                if block != stagingBlock { try flushStaging(); stagingBlock = block }
                let buffer = stagingBuffer()
                let n = min(blockSize - within, rest.count)
                (buffer.baseAddress! + within).copyMemory(from: rest.baseAddress!, byteCount: n)
                offset += Int64(n)
                rest = UnsafeRawBufferPointer(rebasing: rest[n...])
                if within + n == blockSize { try flushStaging() }
                continue
            }
            // Whole blocks straight from the caller's buffer.
            try flushStaging()
            let whole = rest.count / blockSize
            try writeBlocks(UnsafeRawBufferPointer(rebasing: rest[0..<(whole * blockSize)]), firstBlock: block)
            offset += Int64(whole * blockSize)
            rest = UnsafeRawBufferPointer(rebasing: rest[(whole * blockSize)...])
        }
        return true
    }

    func finish(size: Int64) throws -> FileData {
        try flushStaging()
        staging?.deallocate()
        staging = nil
        // A tar entry's size is authoritative; data past it (if any) is not part of the file.
        let lastBlock = (size + Int64(blockSize) - 1) / Int64(blockSize)
        runs = runs.compactMap { run in
            guard run.fileBlock < lastBlock else { return nil }
            var run = run
            run.count = min(run.count, lastBlock - run.fileBlock)
            return run
        }
        return FileData(size: size, runs: runs)
    }

    private func stagingBuffer() -> UnsafeMutableRawBufferPointer {
        if let staging { return staging }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 64)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        staging = buffer
        return buffer
    }

    private func flushStaging() throws {
        guard stagingBlock >= 0, let staging else { return }
        try writeBlocks(UnsafeRawBufferPointer(staging), firstBlock: stagingBlock)
        staging.initializeMemory(as: UInt8.self, repeating: 0)
        stagingBlock = -1
    }

    /// Writes the non-zero stretches of `bytes` (whole blocks) and records them as runs.
    private func writeBlocks(_ bytes: UnsafeRawBufferPointer, firstBlock: Int64) throws {
        let count = bytes.count / blockSize
        var index = 0
        while index < count {
            while index < count, isZero(bytes, block: index) { index += 1 }
            let start = index
            while index < count, !isZero(bytes, block: index) { index += 1 }
            guard index > start else { continue }
            let region = UnsafeRawBufferPointer(rebasing: bytes[(start * blockSize)..<(index * blockSize)])
            let spillBlock = try spill.append(region)
            add(DataRun(fileBlock: firstBlock + Int64(start), spillBlock: spillBlock, count: Int64(index - start)))
        }
    }

    private func add(_ run: DataRun) {
        if let last = runs.last, last.fileBlock + last.count == run.fileBlock, last.spillBlock + last.count == run.spillBlock {
            runs[runs.count - 1].count += run.count
        } else {
            runs.append(run)
        }
    }

    private func isZero(_ bytes: UnsafeRawBufferPointer, block: Int) -> Bool {
        let words = UnsafeRawBufferPointer(rebasing: bytes[(block * blockSize)..<((block + 1) * blockSize)])
        var accumulated: UInt64 = 0
        for i in stride(from: 0, to: blockSize, by: 8) {
            accumulated |= words.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        }
        return accumulated == 0
    }
}

extension SpillFile {
    /// A spilled file's bytes (holes as zeros), for the few small files the tool itself needs
    /// from an image (its kernel and modules).
    public func read(_ file: FileData, limit: Int64 = 1 << 30) throws -> [UInt8] {
        guard file.size <= limit else { throw FlattenError.tooLargeToRead(bytes: file.size, limit: limit) }
        var bytes = [UInt8](repeating: 0, count: Int(file.size))
        let blockSize = SpillFile.blockSize
        for run in file.runs {
            let start = Int(run.fileBlock) * blockSize
            let length = min(Int(run.count) * blockSize, bytes.count - start)
            guard length > 0 else { continue }
            do {
                try bytes.withMutableSystemBytes { (buffer) throws(SystemError) in
                    try FileIO.readFully(
                        descriptor, into: UnsafeMutableRawBufferPointer(rebasing: buffer[start..<(start + length)]),
                        at: run.spillBlock * Int64(blockSize), "reading temporary data")
                }
            } catch { throw FlattenError.system(error) }
        }
        return bytes
    }
}
