import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes a raw disk image as qcow2 (version 3, 64 KiB clusters, 16-bit refcounts) in one
/// pass: each cluster of the raw image is read once; all-zero clusters are left out (they
/// read as zeros), the others are appended right after the header and L1 table. L2 tables
/// and the refcount structures go after the data, since only then is their size known.
/// Nothing depends on how the host filesystem reports holes, so output is reproducible.
///
/// Layout: [header][L1 table][data clusters…][L2 tables][refcount table][refcount blocks]
public enum QCOW2Writer {
    static let clusterBits: UInt32 = 16
    static let clusterSize = 1 << 16
    static let l2Entries = clusterSize / 8
    static let refcountsPerBlock = clusterSize / 2
    static let copied: UInt64 = 1 << 63  // QCOW_OFLAG_COPIED: refcount is exactly 1

    public struct Summary: Sendable, Equatable {
        public var virtualSize: Int64
        public var dataClusters: Int
        public var fileSize: Int64
    }

    public static func convert(raw: String, to path: String) throws -> Summary {
        let input = open(raw, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw DiskError.io("\(raw): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        let output = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw DiskError.io("\(path): \(String(cString: strerror(errno)))") }
        defer { close(output) }

        let virtualSize = Int64(lseek(input, 0, SEEK_END))
        let guestClusters = Int((virtualSize + Int64(clusterSize) - 1) / Int64(clusterSize))
        let l1Size = (guestClusters + l2Entries - 1) / l2Entries
        let l1Clusters = max(1, (l1Size * 8 + clusterSize - 1) / clusterSize)
        var nextCluster = 1 + l1Clusters
        // Guest cluster index → host cluster index, in guest order.
        var mapping: [(guest: Int, host: Int)] = []

        // Read 4 MiB at a time; write each stretch of non-zero clusters with one call.
        let chunkClusters = 64
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: clusterSize * chunkClusters, alignment: 4096)
        defer { buffer.deallocate() }
        for region in try dataRegions(input, size: virtualSize) {
            var cluster = Int(region.start / Int64(clusterSize))
            let last = Int((region.end - 1) / Int64(clusterSize))
            if let previous = mapping.last?.guest, previous >= cluster { cluster = previous + 1 }
            while cluster <= last {
                let count = min(chunkClusters, last - cluster + 1)
                let offset = Int64(cluster) * Int64(clusterSize)
                let length = Int(min(Int64(count * clusterSize), virtualSize - offset))
                try readFully(input, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length]), at: offset, path: raw)
                if length < count * clusterSize {
                    (buffer.baseAddress! + length).initializeMemory(as: UInt8.self, repeating: 0, count: count * clusterSize - length)
                }
                var index = 0
                while index < count {
                    while index < count, isZero(cluster: index, in: buffer) { index += 1 }
                    let start = index
                    while index < count, !isZero(cluster: index, in: buffer) { index += 1 }
                    guard index > start else { continue }
                    let stretch = UnsafeRawBufferPointer(rebasing: buffer[(start * clusterSize)..<(index * clusterSize)])
                    try writeFully(output, stretch, at: Int64(nextCluster) * Int64(clusterSize), path: path)
                    for i in start..<index {
                        mapping.append((cluster + i, nextCluster))
                        nextCluster += 1
                    }
                }
                cluster += count
            }
        }

        // L2 tables, one per 512 MiB of guest space that holds data.
        var l1 = [UInt64](repeating: 0, count: l1Size)
        var l2Tables: [(index: Int, table: [UInt64])] = []
        for (guest, host) in mapping {
            let l1Index = guest / l2Entries
            if l2Tables.last?.index != l1Index { l2Tables.append((l1Index, [UInt64](repeating: 0, count: l2Entries))) }
            l2Tables[l2Tables.count - 1].table[guest % l2Entries] = UInt64(host) * UInt64(clusterSize) | copied
        }
        for (index, table) in l2Tables {
            l1[index] = UInt64(nextCluster) * UInt64(clusterSize) | copied
            try writeFully(output, bigEndian(table), at: Int64(nextCluster) * Int64(clusterSize), path: path)
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
        for block in 0..<blocks { table[block] = UInt64(firstBlock + block) * UInt64(clusterSize) }
        try writeFully(output, bigEndian(table), at: Int64(tableCluster) * Int64(clusterSize), path: path)
        for block in 0..<blocks {
            var counts = [UInt16](repeating: 0, count: refcountsPerBlock)
            let first = block * refcountsPerBlock
            for i in 0..<refcountsPerBlock where first + i < totalClusters { counts[i] = UInt16(1).bigEndian }
            try counts.withUnsafeBytes { try writeFully(output, $0, at: Int64(firstBlock + block) * Int64(clusterSize), path: path) }
        }

        try writeFully(output, bigEndian(l1), at: Int64(clusterSize), path: path)
        let header = Self.header(virtualSize: UInt64(virtualSize), l1Size: UInt32(l1Size), l1Offset: UInt64(clusterSize),
                                 refcountTableOffset: UInt64(tableCluster) * UInt64(clusterSize), refcountTableClusters: UInt32(tableClusters))
        try header.withUnsafeBytes { try writeFully(output, $0, at: 0, path: path) }
        let fileSize = Int64(totalClusters) * Int64(clusterSize)
        guard ftruncate(output, off_t(fileSize)) == 0 else { throw DiskError.io("\(path): \(String(cString: strerror(errno)))") }
        return Summary(virtualSize: virtualSize, dataClusters: mapping.count, fileSize: fileSize)
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

    private static func bigEndian(_ values: [UInt64]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.bigEndian) { Array($0) } }
    }

    private static func writeFully(_ fd: Int32, _ bytes: [UInt8], at offset: Int64, path: String) throws {
        try bytes.withUnsafeBytes { try writeFully(fd, $0, at: offset, path: path) }
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
            if n == 0 {
                (buffer.baseAddress! + done).initializeMemory(as: UInt8.self, repeating: 0, count: buffer.count - done)
                return
            }
            done += n
        }
    }

    private static func isZero(cluster: Int, in buffer: UnsafeMutableRawBufferPointer) -> Bool {
        let base = cluster * clusterSize
        var accumulated: UInt64 = 0
        for i in stride(from: base, to: base + clusterSize, by: 8) { accumulated |= buffer.loadUnaligned(fromByteOffset: i, as: UInt64.self) }
        return accumulated == 0
    }
}
