@testable import Disk
import Foundation
import Testing

/// QCOW2Writer checked against an independent reader of what it writes: every guest byte reads
/// back as in the raw image, only non-zero clusters are stored, refcounts are exact, and the
/// bytes do not depend on how the raw image's zeros are stored (holes or written zeros) or on
/// how the data is copied.
@Suite struct QCOW2WriterTests {
    static let cluster = 1 << 16

    /// A raw image of `size` bytes (sparse), with `writes` written at their offsets.
    static func raw(_ name: String, size: Int64, writes: [(offset: Int64, bytes: [UInt8])]) throws -> String {
        let path = NSTemporaryDirectory() + "qcow2-\(name)-\(UUID().uuidString).img"
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        #expect(fd >= 0)
        defer { close(fd) }
        #expect(ftruncate(fd, off_t(size)) == 0)
        for write in writes {
            let n = write.bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(write.offset)) }
            #expect(n == write.bytes.count)
        }
        return path
    }

    static func pattern(_ count: Int, seed: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761 &+ seed) >> 7) | 1 }
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// A qcow2 file read back, its structure checked on the way.
    struct Image {
        var file: [UInt8]
        var size: Int
        var clusters: [Int: Int] = [:]  // guest cluster → host offset

        /// Guest bytes (zeros where no cluster is stored).
        func read(_ offset: Int, _ count: Int) -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: count)
            var done = 0
            while done < count {
                let guest = offset + done, index = guest / cluster, within = guest % cluster
                let n = min(cluster - within, count - done)
                if let host = clusters[index] { bytes.replaceSubrange(done..<done + n, with: file[host + within..<host + within + n]) }
                done += n
            }
            return bytes
        }
    }

    static func decode(_ file: [UInt8]) -> Image {
        func u32(_ at: Int) -> UInt32 { file[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        func u64(_ at: Int) -> UInt64 { file[at..<at + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        func u16(_ at: Int) -> UInt16 { file[at..<at + 2].reduce(0) { $0 << 8 | UInt16($1) } }
        #expect(u32(0) == 0x5146_49FB)
        #expect(u32(4) == 3)
        #expect(u32(20) == 16)
        #expect(u32(96) == 4)  // 16-bit refcounts
        #expect(file.count % cluster == 0)
        var image = Image(file: file, size: Int(u64(24)))
        let l1Size = Int(u32(36)), l1Offset = Int(u64(40))
        let refcountTable = Int(u64(48)), refcountClusters = Int(u32(56))
        let copied: UInt64 = 1 << 63, offsetMask: UInt64 = 0x00FF_FFFF_FFFF_FE00

        var references = [Int](repeating: 0, count: file.count / cluster)
        references[0] += 1
        for i in 0..<max(1, (l1Size * 8 + cluster - 1) / cluster) { references[l1Offset / cluster + i] += 1 }
        for l1 in 0..<l1Size {
            let entry = u64(l1Offset + l1 * 8)
            guard entry != 0 else { continue }
            #expect(entry & copied != 0)
            let l2 = Int(entry & offsetMask)
            references[l2 / cluster] += 1
            for index in 0..<(cluster / 8) {
                let l2Entry = u64(l2 + index * 8)
                guard l2Entry != 0 else { continue }
                #expect(l2Entry & copied != 0)
                let host = Int(l2Entry & offsetMask)
                references[host / cluster] += 1
                image.clusters[l1 * cluster / 8 + index] = host
            }
        }
        for i in 0..<refcountClusters { references[refcountTable / cluster + i] += 1 }
        for i in 0..<(refcountClusters * cluster / 8) {
            let block = Int(u64(refcountTable + i * 8))
            if block != 0 { references[block / cluster] += 1 }
        }
        // Every cluster of the file is used exactly once, and its refcount says 1.
        #expect(references.allSatisfy { $0 == 1 })
        for index in 0..<references.count {
            let block = Int(u64(refcountTable + index / (cluster / 2) * 8))
            #expect(u16(block + index % (cluster / 2) * 2) == 1)
        }
        return image
    }

    static func convert(_ raw: String, copyFileRange: Bool = true) throws -> (summary: QCOW2Writer.Summary, bytes: [UInt8]) {
        let output = raw + ".qcow2"
        defer { unlink(output) }
        let summary = try QCOW2Writer.convert(raw: raw, to: output, copyFileRange: copyFileRange)
        return (summary, try bytes(output))
    }

    /// Data everywhere a copy can go wrong: at the start, across and at the ends of holes,
    /// clusters of written zeros, a cluster whose first sector is zero, and a short last cluster.
    static let writes: [(offset: Int64, bytes: [UInt8])] = [
        (0, pattern(512, seed: 1)),
        (Int64(cluster) * 3 + 4096, pattern(cluster * 5, seed: 2)),  // straddles 6 clusters
        (Int64(cluster) * 12, [UInt8](repeating: 0, count: cluster * 2)),  // written zeros
        (Int64(cluster) * 15 + 40_000, pattern(100, seed: 3)),  // first sector of the cluster zero
        (Int64(cluster) * 20, pattern(cluster * 40, seed: 4)),  // a long stretch
        (Int64(cluster) * 70 + 4096, [UInt8](repeating: 0, count: 8192)),
        (Int64(cluster) * 70 + 12288, pattern(10, seed: 5)),
        (Int64(cluster) * 99 + 1000, pattern(7000, seed: 6))  // in the short last cluster
    ]
    static let size = Int64(cluster) * 99 + 8192

    @Test func readsBackByteForByte() throws {
        let raw = try Self.raw("roundtrip", size: Self.size, writes: Self.writes)
        defer { unlink(raw) }
        let (summary, file) = try Self.convert(raw)
        let image = Self.decode(file)
        #expect(image.size == Int(Self.size))
        #expect(image.read(0, image.size) == (try Self.bytes(raw)))
        // Clusters 0, 3…8, 15, 20…59, 70, 99; not the written zeros at 12 and 13.
        #expect(image.clusters.keys.sorted() == [0] + Array(3...8) + [15] + Array(20...59) + [70, 99])
        // Stored in guest order right after the header and the L1 table.
        #expect(image.clusters.sorted { $0.key < $1.key }.map(\.value) == (0..<50).map { (2 + $0) * Self.cluster })
        #expect(summary == QCOW2Writer.Summary(virtualSize: Self.size, dataClusters: 50, fileSize: Int64(file.count)))
    }

    @Test func sameBytesWhateverTheHolesAndTheCopy() throws {
        let sparse = try Self.raw("sparse", size: Self.size, writes: Self.writes)
        defer { unlink(sparse) }
        let dense = try Self.raw("dense", size: Self.size, writes: [(0, try Self.bytes(sparse))])
        defer { unlink(dense) }
        let reference = try Self.convert(sparse).bytes
        #expect(try Self.convert(dense).bytes == reference)
        #expect(try Self.convert(sparse, copyFileRange: false).bytes == reference)
        #expect(try Self.convert(dense, copyFileRange: false).bytes == reference)
    }

    @Test func replacesWhatTheOutputHeld() throws {
        let raw = try Self.raw("replace", size: Self.size, writes: Self.writes)
        defer { unlink(raw) }
        let output = raw + ".old.qcow2"
        defer { unlink(output) }
        #expect(FileManager.default.createFile(atPath: output, contents: Data([UInt8](repeating: 0xEE, count: 20 << 20))))
        _ = try QCOW2Writer.convert(raw: raw, to: output)
        #expect(try Self.bytes(output) == (try Self.convert(raw).bytes))
    }

    @Test func dataBeyondTheFirstL2Table() throws {
        // 1.5 GiB, sparse: three L2 tables' worth of guest space, data in the first and the last.
        let size = 3 << 29
        let first = Self.pattern(100, seed: 7), last = Self.pattern(70_000, seed: 8)
        let raw = try Self.raw("l2", size: Int64(size), writes: [(4096, first), (Int64(size - last.count), last)])
        defer { unlink(raw) }
        let (summary, file) = try Self.convert(raw)
        let image = Self.decode(file)
        let lastCluster = size / Self.cluster - 1
        #expect(image.clusters.keys.sorted() == [0, lastCluster - 1, lastCluster])
        #expect(summary.dataClusters == 3 && summary.virtualSize == Int64(size))
        #expect(image.read(4096, first.count) == first)
        #expect(image.read(size - last.count, last.count) == last)
        #expect(file.count == (2 + 3 + 2 + 2) * Self.cluster)  // header, L1, data, L2 tables, refcounts
    }

    @Test func anAllZeroImageStoresNoData() throws {
        let raw = try Self.raw("zero", size: 10 << 20, writes: [(1 << 20, [UInt8](repeating: 0, count: 3 << 20))])
        defer { unlink(raw) }
        let (summary, file) = try Self.convert(raw)
        let image = Self.decode(file)
        #expect(image.clusters.isEmpty && summary.dataClusters == 0)
        #expect(image.read(0, image.size).allSatisfy { $0 == 0 })
    }
}

/// Writing a disk straight into qcow2: file data copied in first (as the ext4 writer does), then
/// a sparse scratch image with everything written in place folded around it. The result must
/// read back as the raw disk both would make, whatever clusters they share.
@Suite struct QCOW2DirectWriteTests {
    typealias T = QCOW2WriterTests
    static let cluster = T.cluster
    static let block = 4096

    /// (guest offset, bytes) of the data copied in, in copy order: not guest order, across
    /// cluster boundaries, and sharing clusters with the scratch's writes.
    static let data: [(offset: Int64, bytes: [UInt8])] = [
        (Int64(cluster) * 30 + 8192, T.pattern(cluster * 3, seed: 11)),  // clusters 30…33
        (Int64(cluster) * 2, T.pattern(block, seed: 12)),  // one block of cluster 2
        (Int64(cluster) * 33 + Int64(8192 + block * 0), T.pattern(block * 2, seed: 13)),  // continues in 33
        (Int64(cluster) * 60 - Int64(block), T.pattern(block * 3, seed: 14))  // 59 → 60
    ]
    /// In-place writes (partition table, filesystem metadata), never on a copied block.
    static let scratch: [(offset: Int64, bytes: [UInt8])] = [
        (0, T.pattern(512, seed: 21)),
        (Int64(cluster) * 2 + Int64(block) * 3, T.pattern(100, seed: 22)),  // beside the copied block
        (Int64(cluster) * 33 + Int64(block) * 14, T.pattern(block * 2, seed: 23)),  // end of a copied cluster
        (Int64(cluster) * 45, T.pattern(cluster * 2, seed: 24)),  // clusters of their own
        (Int64(cluster) * 50, [UInt8](repeating: 0, count: cluster))  // written zeros: not stored
    ]
    static let size = Int64(cluster) * 64

    /// Builds the qcow2 from a source file holding `data` back to back and a scratch image.
    static func build(copyFileRange: Bool = true) throws -> (summary: QCOW2Writer.Summary, bytes: [UInt8]) {
        let sourceBytes = data.flatMap(\.bytes)
        let source = try T.raw("source", size: Int64(sourceBytes.count), writes: [(0, sourceBytes)])
        defer { unlink(source) }
        let scratch = try T.raw("scratch", size: size, writes: Self.scratch)
        defer { unlink(scratch) }
        let output = scratch + ".qcow2"
        defer { unlink(output) }
        let fd = open(source, O_RDONLY)
        defer { close(fd) }
        let writer = try QCOW2Writer(path: output, virtualSize: size, copyFileRange: copyFileRange)
        var at: Int64 = 0
        for piece in data {
            try writer.copy(from: fd, at: at, length: Int64(piece.bytes.count), toGuest: piece.offset, sourceName: source)
            at += Int64(piece.bytes.count)
        }
        try writer.fold(raw: scratch)
        return (try writer.finish(), try T.bytes(output))
    }

    @Test func readsBackAsTheWholeDisk() throws {
        let (summary, file) = try Self.build()
        let image = T.decode(file)
        let whole = try T.raw("whole", size: Self.size, writes: Self.scratch + Self.data)
        defer { unlink(whole) }
        #expect(image.size == Int(Self.size))
        #expect(image.read(0, image.size) == (try T.bytes(whole)))
        // Copied clusters first, in the order data first reached them; then the scratch's own.
        let order = image.clusters.sorted { $0.value < $1.value }.map(\.key)
        #expect(order == [30, 31, 32, 33, 2, 59, 60, 0, 45, 46])
        #expect(summary.dataClusters == 10)
        // Same bytes through the buffer copy, and on every run.
        #expect(try Self.build(copyFileRange: false).bytes == file)
        #expect(try Self.build().bytes == file)
    }

    @Test func refusesWritesOutsideTheDisk() throws {
        let output = NSTemporaryDirectory() + "qcow2-outside-\(UUID().uuidString).qcow2"
        defer { unlink(output) }
        let writer = try QCOW2Writer(path: output, virtualSize: Self.size)
        #expect(throws: DiskError.self) {
            try writer.copy(from: -1, at: 0, length: 8192, toGuest: Self.size - 4096, sourceName: "source")
        }
    }
}
