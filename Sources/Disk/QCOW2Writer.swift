import SystemBase
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Builds a qcow2 file by writing guest data straight into it: a guest cluster gets the next
/// host cluster the first time data lands in it, so every byte is written once, where it stays,
/// and only clusters that hold data are stored. Two ways in:
/// - `copy(from:at:length:toGuest:)`: bytes of another file, moved by the kernel
///   (copy_file_range: they never pass through this process). The ext4 writer hands file
///   data, the bulk of a disk, over this way.
/// - `fold(raw:)`: the non-zero contents of a raw image. That is a whole raw disk when
///   converting one, or the sparse scratch image that holds what is written in place around
///   the copied data (partition table, FAT boot partition, ext4 metadata). All-zero clusters
///   are left out; in a cluster that already holds copied data, only the scratch's non-zero
///   blocks are written, since copied data and in-place writes never share a block.
/// `finish()` then writes the L2 tables, refcounts, L1 table and header.
///
/// The same calls in the same order give the same bytes. Layout:
/// [header][L1 table][data clusters, in order of first write][L2 tables][refcount table][refcount blocks]
public final class QCOW2Writer {
    public struct Summary: Sendable, Equatable {
        public var virtualSize: Int64
        public var dataClusters: Int
        public var fileSize: Int64
    }

    static let clusterSize = QCOW2Format.clusterSize
    /// The longest single copy of consecutive clusters folded from a raw image.
    static let maximumStretch = 16 << 20
    /// How much of a cluster is read first to tell data from zeros.
    static let probeSize = 512
    /// The unit of copied data inside a shared cluster: the ext4 block (data is copied in whole,
    /// aligned blocks, so a non-zero scratch block is never one of them).
    static let blockSize = 4096
    /// Read and write size where copy_file_range cannot be used.
    static let fallbackChunk = 1 << 20

    public let path: String
    public let virtualSize: Int64
    private let output: Int32
    private let l1Size: Int
    private let firstDataCluster: Int
    private var nextCluster: Int
    /// Guest cluster → host offset (big-endian, with the COPIED flag), one table per 512 MiB of
    /// guest space, made when the first cluster in its range is stored.
    private var l2Tables: [UnsafeMutableBufferPointer<UInt64>?]
    private var copier: RangeCopier
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: fallbackChunk, alignment: 4096)
    private let zeros: UnsafeMutableRawPointer = {
        let zeros = UnsafeMutableRawPointer.allocate(byteCount: clusterSize, alignment: 64)
        zeros.initializeMemory(as: UInt8.self, repeating: 0, count: clusterSize)
        return zeros
    }()
    private var finished = false

    /// Starts an empty qcow2 of `virtualSize` guest bytes at `path` (created, or emptied).
    /// `copyFileRange: false` copies through a buffer, as on filesystems without it (for tests).
    public init(path: String, virtualSize: Int64, copyFileRange: Bool = true) throws {
        self.path = path
        self.virtualSize = virtualSize
        copier = RangeCopier(kernelCopy: copyFileRange)
        let guestClusters = Int((virtualSize + Int64(Self.clusterSize) - 1) / Int64(Self.clusterSize))
        l1Size = (guestClusters + QCOW2Format.l2Entries - 1) / QCOW2Format.l2Entries
        let l1Clusters = max(1, (l1Size * 8 + Self.clusterSize - 1) / Self.clusterSize)
        firstDataCluster = 1 + l1Clusters
        nextCluster = firstDataCluster
        l2Tables = Array(repeating: nil, count: l1Size)
        // No O_TRUNC on an empty file: ext4 flags a file truncated to zero (auto_da_alloc) and then
        // starts writeback of all of it on close, which costs as much as writing the data.
        output = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw DiskError.system(.lastError(path)) }
        if try Self.length(of: output, path: path) != 0 {
            guard ftruncate(output, 0) == 0 else { throw DiskError.system(.lastError(path)) }
        }
    }

    deinit {
        close(output)
        for table in l2Tables { table?.deallocate() }
        buffer.deallocate()
        zeros.deallocate()
    }

    /// Converts a raw image into a qcow2 file.
    public static func convert(raw: String, to path: String, copyFileRange: Bool = true) throws -> Summary {
        let writer = try QCOW2Writer(path: path, virtualSize: try Self.size(of: raw), copyFileRange: copyFileRange)
        try writer.fold(raw: raw)
        return try writer.finish()
    }

    // MARK: - Data in

    /// Copies `length` bytes at `sourceOffset` of `source` to guest offset `guestOffset`.
    public func copy(from source: Int32, at sourceOffset: Int64, length: Int64, toGuest guestOffset: Int64, sourceName: String) throws {
        guard !finished, guestOffset >= 0, length >= 0, guestOffset + length <= virtualSize else {
            throw DiskError.outsideDisk(path: path, offset: guestOffset, length: Int64(length), diskBytes: virtualSize)
        }
        // Consecutive guest clusters nearly always get consecutive host clusters: one copy per run.
        var run = (source: sourceOffset, host: Int64(0), length: Int64(0))
        var done: Int64 = 0
        while done < length {
            let guest = guestOffset + done
            let cluster = Int(guest / Int64(Self.clusterSize))
            let within = guest % Int64(Self.clusterSize)
            let n = min(Int64(Self.clusterSize) - within, length - done)
            let host = (hostOffset(of: cluster) ?? allocate(cluster)) + within
            if run.length > 0, run.host + run.length == host {
                run.length += n
            } else {
                try transfer(from: source, at: run.source, to: run.host, length: run.length, sourceName: sourceName)
                run = (sourceOffset + done, host, n)
            }
            done += n
        }
        try transfer(from: source, at: run.source, to: run.host, length: run.length, sourceName: sourceName)
    }

    /// Adds the non-zero contents of the raw image at `raw` (at most `virtualSize` bytes). Holes
    /// the filesystem reports are skipped without being read, and every cluster that may hold data
    /// is checked for zeros, so the result does not depend on how the raw image stores its zeros.
    public func fold(raw: String) throws {
        guard !finished else { throw DiskError.misuse(path: path, reason: "already finished") }
        let input = open(raw, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw DiskError.system(.lastError(raw)) }
        defer { close(input) }
        let size = Int64(lseek(input, 0, SEEK_END))
        guard size >= 0 else { throw DiskError.system(.lastError(raw)) }
        guard size <= virtualSize else { throw DiskError.misuse(path: raw, reason: "\(size) bytes, more than the \(virtualSize)-byte disk") }

        // Newly stored clusters that are consecutive in the guest and in this file: one copy.
        var stretch = (cluster: 0, host: Int64(0), count: 0)
        func flush() throws {
            guard stretch.count > 0 else { return }
            let offset = Int64(stretch.cluster) * Int64(Self.clusterSize)
            let length = min(Int64(stretch.count) * Int64(Self.clusterSize), size - offset)
            stretch.count = 0
            try transfer(from: input, at: offset, to: stretch.host, length: length, sourceName: raw)
        }

        var lastSeen = -1  // the last guest cluster looked at (regions can share a cluster)
        for region in try Self.dataRegions(input, size: size) {
            var cluster = max(Int(region.start / Int64(Self.clusterSize)), lastSeen + 1)
            let last = Int((region.end - 1) / Int64(Self.clusterSize))
            while cluster <= last {
                let offset = Int64(cluster) * Int64(Self.clusterSize)
                let length = Int(min(Int64(Self.clusterSize), size - offset))
                if let host = hostOffset(of: cluster) {
                    try flush()
                    try merge(input, at: offset, length: length, into: host, rawName: raw)
                } else if try isZero(input, at: offset, length: length, rawName: raw) {
                    try flush()
                } else {
                    let host = allocate(cluster)
                    let contiguous =
                        stretch.cluster + stretch.count == cluster
                        && stretch.host + Int64(stretch.count) * Int64(Self.clusterSize) == host
                    if stretch.count > 0, !contiguous || stretch.count * Self.clusterSize >= Self.maximumStretch { try flush() }
                    if stretch.count == 0 { stretch = (cluster, host, 0) }
                    stretch.count += 1
                }
                cluster += 1
            }
            lastSeen = last
        }
        try flush()
    }

    // MARK: - Metadata out

    /// Writes the tables and the header; the file is a complete qcow2 after this.
    public func finish() throws -> Summary {
        guard !finished else { throw DiskError.misuse(path: path, reason: "already finished") }
        finished = true
        let dataClusters = nextCluster - firstDataCluster
        let clusterSize = Int64(Self.clusterSize)

        // L2 tables, one per 512 MiB of guest space that holds data.
        var l1 = [UInt64](repeating: 0, count: l1Size)
        for (index, table) in l2Tables.enumerated() {
            guard let table else { continue }
            l1[index] = (UInt64(nextCluster) * UInt64(clusterSize) | QCOW2Format.copied).bigEndian
            try FileIO.writeFully(output, UnsafeRawBufferPointer(table), at: Int64(nextCluster) * clusterSize, "\(path): write")
            nextCluster += 1
        }

        // Refcounts cover every cluster in the file, their own included; all are 1.
        let (tableClusters, blocks) = QCOW2Format.refcountLayout(clusters: nextCluster)
        let tableCluster = nextCluster
        let firstBlock = tableCluster + tableClusters
        let totalClusters = firstBlock + blocks
        var table = [UInt64](repeating: 0, count: tableClusters * Self.clusterSize / 8)
        for block in 0..<blocks { table[block] = (UInt64(firstBlock + block) * UInt64(clusterSize)).bigEndian }
        try table.withUnsafeBytes { try FileIO.writeFully(output, $0, at: Int64(tableCluster) * clusterSize, "\(path): write") }
        var counts = [UInt16](repeating: 0, count: QCOW2Format.refcountsPerBlock)
        for block in 0..<blocks {
            let used = min(QCOW2Format.refcountsPerBlock, totalClusters - block * QCOW2Format.refcountsPerBlock)
            counts.withUnsafeMutableBufferPointer { counts in
                counts.update(repeating: 0)
                counts.baseAddress!.update(repeating: UInt16(1).bigEndian, count: used)
            }
            try counts.withUnsafeBytes { try FileIO.writeFully(output, $0, at: Int64(firstBlock + block) * clusterSize, "\(path): write") }
        }

        try l1.withUnsafeBytes { try FileIO.writeFully(output, $0, at: clusterSize, "\(path): write") }
        let header = QCOW2Format.header(
            virtualSize: UInt64(virtualSize), l1Size: UInt32(l1Size), l1Offset: UInt64(clusterSize),
            refcountTableOffset: UInt64(tableCluster) * UInt64(clusterSize),
            refcountTableClusters: UInt32(tableClusters))
        try header.withUnsafeBytes { try FileIO.writeFully(output, $0, at: 0, "\(path): write") }
        // Clusters only partly written end in holes; the file covers all of them.
        let fileSize = Int64(totalClusters) * clusterSize
        if try Self.length(of: output, path: path) != fileSize {
            guard ftruncate(output, off_t(fileSize)) == 0 else { throw DiskError.system(.lastError(path)) }
        }
        return Summary(virtualSize: virtualSize, dataClusters: dataClusters, fileSize: fileSize)
    }

    // MARK: - Clusters

    private func hostOffset(of cluster: Int) -> Int64? {
        guard let table = l2Tables[cluster / QCOW2Format.l2Entries] else { return nil }
        let entry = UInt64(bigEndian: table[cluster % QCOW2Format.l2Entries])
        return entry == 0 ? nil : Int64(entry & ~QCOW2Format.copied)
    }

    private func allocate(_ cluster: Int) -> Int64 {
        let index = cluster / QCOW2Format.l2Entries
        if l2Tables[index] == nil {
            let table = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: QCOW2Format.l2Entries)
            table.initialize(repeating: 0)
            l2Tables[index] = table
        }
        let host = Int64(nextCluster) * Int64(Self.clusterSize)
        nextCluster += 1
        l2Tables[index]![cluster % QCOW2Format.l2Entries] = (UInt64(host) | QCOW2Format.copied).bigEndian
        return host
    }

    /// Whether `length` bytes at `offset` of `input` are all zeros. A data cluster nearly always
    /// shows a non-zero byte in its first sector, so most clusters cost one small read.
    private func isZero(_ input: Int32, at offset: Int64, length: Int, rawName: String) throws -> Bool {
        let probe = min(length, Self.probeSize)
        try FileIO.readFully(input, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<probe]), at: offset, "\(rawName): read")
        if memcmp(buffer.baseAddress!, zeros, probe) != 0 { return false }
        guard length > probe else { return true }
        let rest = UnsafeMutableRawBufferPointer(rebasing: buffer[probe..<length])
        try FileIO.readFully(input, into: rest, at: offset + Int64(probe), "\(rawName): read")
        return memcmp(rest.baseAddress!, zeros, rest.count) == 0
    }

    /// Writes the non-zero blocks of a raw cluster into a cluster that already holds copied data.
    private func merge(_ input: Int32, at offset: Int64, length: Int, into host: Int64, rawName: String) throws {
        let cluster = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length])
        try FileIO.readFully(input, into: cluster, at: offset, "\(rawName): read")
        var start = 0
        while start < length {
            let end = min(start + Self.blockSize, length)
            if memcmp(cluster.baseAddress! + start, zeros, end - start) != 0 {
                try FileIO.writeFully(output, UnsafeRawBufferPointer(rebasing: cluster[start..<end]), at: host + Int64(start), "\(path): write")
            }
            start = end
        }
    }

    /// Copies bytes into this file in the kernel (no trip through user memory, and a clone on
    /// filesystems that share extents); through a buffer where the kernel cannot copy.
    private func transfer(from source: Int32, at sourceOffset: Int64, to host: Int64, length: Int64, sourceName: String) throws {
        try copier.copy(from: source, at: sourceOffset, to: output, at: host, length: length, "\(path): copy from \(sourceName)")
    }

    // MARK: - Files

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

    private static func size(of path: String) throws -> Int64 {
        var status = stat()
        guard stat(path, &status) == 0 else { throw DiskError.system(.lastError(path)) }
        return Int64(status.st_size)
    }

    private static func length(of fd: Int32, path: String) throws -> Int64 {
        do { return try FileIO.size(fd, path) } catch { throw DiskError.system(error) }
    }
}
