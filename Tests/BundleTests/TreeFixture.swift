import Archive
import Flatten
import Foundation

/// Entry data held in memory, handed out in blocks.
final class MemoryData: EntryData {
    var blocks: [(Int64, [UInt8])]
    /// The block handed out last: valid until the next call, as libarchive's are (a pointer
    /// out of `withUnsafeBytes` would not be valid even that long).
    private var current = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    deinit { current.deallocate() }

    init(_ bytes: [UInt8], blockSize: Int = 4096) {
        blocks = stride(from: 0, to: bytes.count, by: blockSize).map { (Int64($0), Array(bytes[$0..<min($0 + blockSize, bytes.count)])) }
    }

    func nextBlock() throws -> (offset: Int64, bytes: UnsafeRawBufferPointer)? {
        guard !blocks.isEmpty else { return nil }
        let (offset, bytes) = blocks.removeFirst()
        current.deallocate()
        current = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
        current.copyBytes(from: bytes)
        return (offset, UnsafeRawBufferPointer(current))
    }
}

/// A tree built from layer entries (through the real layer rules), plus a scratch folder.
final class TreeFixture {
    let scratch: String
    let tree = FileTree(defaultTime: 1_000)
    let spill: SpillFile
    private let applier: LayerApplier

    init() throws {
        scratch = NSTemporaryDirectory() + "/bundle-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        spill = try SpillFile(directory: scratch)
        applier = LayerApplier(tree: tree, spill: spill)
    }

    deinit { try? FileManager.default.removeItem(atPath: scratch) }

    func layer(_ index: Int, _ entries: [(ArchiveEntry, [UInt8])]) throws {
        applier.beginLayer(index)
        for (entry, data) in entries { try applier.apply(entry, data: MemoryData(data)) }
    }

    /// Makes `scratch/name` and returns an open descriptor on it (the caller closes it).
    func makeDirectory(_ name: String) throws -> Int32 {
        let path = scratch + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno)!) }
        return fd
    }
}

func file(
    _ path: String, _ bytes: [UInt8], mode: UInt16 = 0o644, uid: Int64 = 0, gid: Int64 = 0,
    mtime: Int64 = 1_700_000_000, nanos: Int32 = 0, xattrs: [Xattr] = []
) -> (ArchiveEntry, [UInt8]) {
    (
        ArchiveEntry(
            path: Array(path.utf8), kind: .regular, permissions: mode, uid: uid, gid: gid, size: Int64(bytes.count),
            mtimeSeconds: mtime, mtimeNanoseconds: nanos, xattrs: xattrs), bytes
    )
}
func file(_ path: String, _ text: String = "x", mode: UInt16 = 0o644) -> (ArchiveEntry, [UInt8]) {
    file(path, Array(text.utf8), mode: mode)
}
func dir(_ path: String, mode: UInt16 = 0o755, uid: Int64 = 0, mtime: Int64 = 1_600_000_000) -> (ArchiveEntry, [UInt8]) {
    (ArchiveEntry(path: Array(path.utf8), kind: .directory, permissions: mode, uid: uid, mtimeSeconds: mtime), [])
}
func symlink(_ path: String, _ target: String, mtime: Int64 = 1_500_000_000) -> (ArchiveEntry, [UInt8]) {
    (ArchiveEntry(path: Array(path.utf8), kind: .symlink, permissions: 0o777, mtimeSeconds: mtime, linkTarget: Array(target.utf8)), [])
}
func hardlink(_ path: String, _ target: String) -> (ArchiveEntry, [UInt8]) {
    (ArchiveEntry(path: Array(path.utf8), kind: .hardlink, linkTarget: Array(target.utf8)), [])
}
func node(_ path: String, _ kind: ArchiveEntry.Kind, major: UInt32 = 0, minor: UInt32 = 0, mode: UInt16 = 0o600) -> (ArchiveEntry, [UInt8]) {
    (ArchiveEntry(path: Array(path.utf8), kind: kind, permissions: mode, deviceMajor: major, deviceMinor: minor), [])
}

func lstatOf(_ path: String) -> stat? {
    var info = stat()
    return lstat(path, &info) == 0 ? info : nil
}

let isRoot = geteuid() == 0
