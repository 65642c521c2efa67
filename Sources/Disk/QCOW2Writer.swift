import CShim
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes a raw disk image as qcow2 (version 3, 64 KiB clusters, 16-bit refcounts) in one
/// pass over the raw image: all-zero clusters are left out (they read as zeros), each stretch
/// of the others is appended right after the header and L1 table by one in-kernel copy
/// (copy_file_range: the data does not pass through this process). L2 tables and the refcount
/// structures go after the data, since only then is their size known. Holes the filesystem
/// reports are skipped without being read, but every cluster that may hold data is checked for
/// zeros, so the output is the same whatever the hole granularity of the host filesystem.
///
/// Layout: [header][L1 table][data clusters…][L2 tables][refcount table][refcount blocks]
public enum QCOW2Writer {
    static let clusterBits: UInt32 = 16
    static let clusterSize = 1 << 16
    static let l2Entries = clusterSize / 8
    static let refcountsPerBlock = clusterSize / 2
    static let copied: UInt64 = 1 << 63  // QCOW_OFLAG_COPIED: refcount is exactly 1
    /// The longest single copy of consecutive data clusters.
    static let maximumStretch = 16 << 20
    /// How much of a cluster is read first to tell data from zeros.
    static let probeSize = 512
    /// Read and write size where copy_file_range cannot be used.
    static let fallbackChunk = 1 << 20

    public struct Summary: Sendable, Equatable {
        public var virtualSize: Int64
        public var dataClusters: Int
        public var fileSize: Int64
    }

    public static func convert(raw: String, to path: String) throws -> Summary {
        try convert(raw: raw, to: path, copyFileRange: true)
    }

    /// `copyFileRange: false` copies every stretch through a buffer (the fallback; for tests).
    static func convert(raw: String, to path: String, copyFileRange: Bool) throws -> Summary {
        let input = open(raw, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw DiskError.io("\(raw): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        // No O_TRUNC on an empty file: ext4 flags a file truncated to zero (auto_da_alloc) and then
        // starts writeback of all of it on close, which costs as much as writing the data.
        let output = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw DiskError.io("\(path): \(String(cString: strerror(errno)))") }
        defer { close(output) }
        if try length(of: output, path: path) != 0 {
            guard ftruncate(output, 0) == 0 else { throw DiskError.io("\(path): \(String(cString: strerror(errno)))") }
        }

        let virtualSize = Int64(lseek(input, 0, SEEK_END))
        guard virtualSize >= 0 else { throw DiskError.io("\(raw): \(String(cString: strerror(errno)))") }
        let guestClusters = Int((virtualSize + Int64(clusterSize) - 1) / Int64(clusterSize))
        let l1Size = (guestClusters + l2Entries - 1) / l2Entries
        let l1Clusters = max(1, (l1Size * 8 + clusterSize - 1) / clusterSize)
        let firstDataCluster = 1 + l1Clusters
        var nextCluster = firstDataCluster

        // L2 tables (big-endian entries), made when their first data cluster is found.
        var l2Tables = [UnsafeMutableBufferPointer<UInt64>?](repeating: nil, count: l1Size)
        defer { for table in l2Tables { table?.deallocate() } }

        // Room for a cluster (zero checks that need all of it) or a fallback copy's chunk, and a
        // cluster of zeros to compare with.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: fallbackChunk, alignment: 4096)
        defer { buffer.deallocate() }
        let zeros = UnsafeMutableRawPointer.allocate(byteCount: clusterSize, alignment: 64)
        zeros.initializeMemory(as: UInt8.self, repeating: 0, count: clusterSize)
        defer { zeros.deallocate() }
        /// Whether the cluster at `offset` (`length` bytes) is all zeros. A data cluster nearly always
        /// shows a non-zero byte in its first sector, so most clusters cost one small read.
        func isZeroCluster(at offset: Int, length: Int) throws -> Bool {
            let probe = min(length, probeSize)
            try readFully(input, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<probe]), at: Int64(offset), path: raw)
            if memcmp(buffer.baseAddress!, zeros, probe) != 0 { return false }
            guard length > probe else { return true }
            let rest = UnsafeMutableRawBufferPointer(rebasing: buffer[probe..<length])
            try readFully(input, into: rest, at: Int64(offset + probe), path: raw)
            return memcmp(rest.baseAddress!, zeros, rest.count) == 0
        }

        // A stretch of consecutive non-zero guest clusters, which land on consecutive host clusters.
        // It is copied by the kernel (copy_file_range: no trip through user memory, and a clone on
        // filesystems that share extents); through the buffer where the kernel cannot copy.
        var stretchStart = 0, stretchCount = 0
        var kernelCopy = copyFileRange
        func flush() throws {
            guard stretchCount > 0 else { return }
            let offset = stretchStart * clusterSize
            let length = min(stretchCount * clusterSize, Int(virtualSize) - offset)
            let host = Int64(nextCluster - stretchCount) * Int64(clusterSize)
            stretchCount = 0
            var copiedBytes = 0
            while kernelCopy, copiedBytes < length {
                let n = cz_copy_file_range(input, Int64(offset + copiedBytes), output, host + Int64(copiedBytes), length - copiedBytes)
                if n > 0 { copiedBytes += n; continue }
                let error = n < 0 ? errno : 0
                if error == EINTR { continue }
                // Not supported between these files (other filesystems, old kernels): copy by hand.
                if [EXDEV, EINVAL, ENOSYS, EOPNOTSUPP, EPERM, EBADF].contains(error) { kernelCopy = false; break }
                throw DiskError.io("\(path): copy from \(raw) failed: \(error == 0 ? "unexpected end of file" : String(cString: strerror(error)))")
            }
            while copiedBytes < length {
                let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(fallbackChunk, length - copiedBytes)])
                try readFully(input, into: chunk, at: Int64(offset + copiedBytes), path: raw)
                try writeFully(output, UnsafeRawBufferPointer(chunk), at: host + Int64(copiedBytes), path: path)
                copiedBytes += chunk.count
            }
        }

        var lastSeen = -1  // the last guest cluster looked at (regions can share a cluster)
        for region in try dataRegions(input, size: virtualSize) {
            var cluster = max(Int(region.start / Int64(clusterSize)), lastSeen + 1)
            let last = Int((region.end - 1) / Int64(clusterSize))
            while cluster <= last {
                let offset = cluster * clusterSize
                let length = min(clusterSize, Int(virtualSize) - offset)
                if try isZeroCluster(at: offset, length: length) {
                    try flush()
                } else {
                    if stretchCount > 0, stretchStart + stretchCount != cluster || stretchCount * clusterSize >= maximumStretch { try flush() }
                    if stretchCount == 0 { stretchStart = cluster }
                    stretchCount += 1
                    let l1Index = cluster / l2Entries
                    if l2Tables[l1Index] == nil {
                        let table = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: l2Entries)
                        table.initialize(repeating: 0)
                        l2Tables[l1Index] = table
                    }
                    l2Tables[l1Index]![cluster % l2Entries] = (UInt64(nextCluster) * UInt64(clusterSize) | copied).bigEndian
                    nextCluster += 1
                }
                cluster += 1
            }
            lastSeen = last
        }
        try flush()
        let dataClusters = nextCluster - firstDataCluster

        // L2 tables, one per 512 MiB of guest space that holds data.
        var l1 = [UInt64](repeating: 0, count: l1Size)
        for (index, table) in l2Tables.enumerated() {
            guard let table else { continue }
            l1[index] = (UInt64(nextCluster) * UInt64(clusterSize) | copied).bigEndian
            try writeFully(output, UnsafeRawBufferPointer(table), at: Int64(nextCluster) * Int64(clusterSize), path: path)
            nextCluster += 1
        }

        // Refcounts cover every cluster in the file, their own included: iterate to a fixpoint.
        var blocks = 0, tableClusters = 0
        while true {
            let total = nextCluster + tableClusters + blocks
            let neededBlocks = (total + refcountsPerBlock - 1) / refcountsPerBlock
            let neededTable = max(1, (neededBlocks * 8 + clusterSize - 1) / clusterSize)
            if neededBlocks == blocks && neededTable == tableClusters { break }
            blocks = neededBlocks
            tableClusters = neededTable
        }
        let tableCluster = nextCluster
        let firstBlock = tableCluster + tableClusters
        let totalClusters = firstBlock + blocks
        var table = [UInt64](repeating: 0, count: tableClusters * clusterSize / 8)
        for block in 0..<blocks { table[block] = (UInt64(firstBlock + block) * UInt64(clusterSize)).bigEndian }
        try table.withUnsafeBytes { try writeFully(output, $0, at: Int64(tableCluster) * Int64(clusterSize), path: path) }
        var counts = [UInt16](repeating: 0, count: refcountsPerBlock)
        for block in 0..<blocks {
            let used = min(refcountsPerBlock, totalClusters - block * refcountsPerBlock)
            counts.withUnsafeMutableBufferPointer { counts in
                counts.update(repeating: 0)
                counts.baseAddress!.update(repeating: UInt16(1).bigEndian, count: used)
            }
            try counts.withUnsafeBytes { try writeFully(output, $0, at: Int64(firstBlock + block) * Int64(clusterSize), path: path) }
        }

        try l1.withUnsafeBytes { try writeFully(output, $0, at: Int64(clusterSize), path: path) }
        let header = Self.header(virtualSize: UInt64(virtualSize), l1Size: UInt32(l1Size), l1Offset: UInt64(clusterSize),
                                 refcountTableOffset: UInt64(tableCluster) * UInt64(clusterSize), refcountTableClusters: UInt32(tableClusters))
        try header.withUnsafeBytes { try writeFully(output, $0, at: 0, path: path) }
        let fileSize = Int64(totalClusters) * Int64(clusterSize)
        if try length(of: output, path: path) != fileSize {
            guard ftruncate(output, off_t(fileSize)) == 0 else { throw DiskError.io("\(path): \(String(cString: strerror(errno)))") }
        }
        return Summary(virtualSize: virtualSize, dataClusters: dataClusters, fileSize: fileSize)
    }

    /// The version 3 header (104 bytes) and an end-of-extensions marker, big-endian.
    static func header(virtualSize: UInt64, l1Size: UInt32, l1Offset: UInt64, refcountTableOffset: UInt64, refcountTableClusters: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        func u32(_ v: UInt32) { bytes += withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        func u64(_ v: UInt64) { bytes += withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        u32(0x5146_49FB)  // "QFI\xfb"
        u32(3)  // version
        u64(0); u32(0)  // no backing file
        u32(clusterBits)
        u64(virtualSize)
        u32(0)  // no encryption
        u32(l1Size); u64(l1Offset)
        u64(refcountTableOffset); u32(refcountTableClusters)
        u32(0); u64(0)  // no snapshots
        u64(0); u64(0); u64(0)  // incompatible, compatible, autoclear features
        u32(4)  // refcount_order: 16-bit refcounts
        u32(104)  // header_length
        u32(0); u32(0)  // header extensions: end
        return bytes
    }

    /// Stretches of the file that may hold data (holes reported by the filesystem skipped).
    static func dataRegions(_ fd: Int32, size: Int64) throws -> [(start: Int64, end: Int64)] {
        var regions: [(Int64, Int64)] = []
        var position: Int64 = 0
        while position < size {
            let data = Int64(lseek(fd, off_t(position), seekData))
            if data < 0 { break }  // ENXIO: only a hole is left
            var hole = Int64(lseek(fd, off_t(data), seekHole))
            if hole < 0 { hole = size }
            regions.append((data, min(hole, size)))
            position = hole
        }
        return regions
    }

    /// Linux's SEEK_DATA / SEEK_HOLE (glibc hides them behind _GNU_SOURCE).
    private static let seekData: Int32 = 3
    private static let seekHole: Int32 = 4

    private static func length(of fd: Int32, path: String) throws -> Int64 {
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw DiskError.io("\(path): \(String(cString: strerror(errno)))") }
        return Int64(status.st_size)
    }

    private static func writeFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 { if errno == EINTR { continue }; throw DiskError.io("\(path): write failed: \(String(cString: strerror(errno)))") }
            done += n
        }
    }

    private static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String) throws {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 { if errno == EINTR { continue }; throw DiskError.io("\(path): read failed: \(String(cString: strerror(errno)))") }
            if n == 0 { throw DiskError.io("\(path): read failed: unexpected end of file") }
            done += n
        }
    }
}
