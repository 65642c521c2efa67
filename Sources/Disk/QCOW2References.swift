import SystemBase
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a qcow2 header says about data outside the file: a backing file, an external data
/// file. QEMU and qemu-img open whatever those name (a host file, `json:{…}` with any driver, an
/// `http://` URL), so a disk nobody vetted could make `run` read the user's files into the
/// guest or send requests before any VM starts. oci2disk's own qcow2 files name none.
///
/// Read by hand (the qcow2 spec, docs/interop/qcow2.txt): `qemu-img info` would itself open
/// the backing chain, which is what must not happen.
public struct QCOW2References: Equatable, Sendable {
    public var backingFile: String?
    public var externalDataFile: String?
    /// Set when incompatible feature bit 2 says the data lives elsewhere, with or without a name.
    public var hasExternalData = false

    public var isSelfContained: Bool { backingFile == nil && externalDataFile == nil && !hasExternalData }

    static let magic: [UInt8] = [0x51, 0x46, 0x49, 0xFB]
    static let externalDataExtension: UInt32 = 0x4441_5441

    /// nil when the file is not qcow2 at all.
    public static func read(path: String) throws(DiskError) -> QCOW2References? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(.lastError(path)) }
        defer { close(fd) }
        // The header, its extensions and a backing file name all sit in the first cluster, and
        // the spec bounds the name at 1023 bytes; 64 KiB covers every real header.
        var head = [UInt8](repeating: 0, count: 1 << 16)
        let count = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { throw .system(.lastError(path)) }
        return try parse(Array(head.prefix(count)), path: path)
    }

    public static func parse(_ bytes: [UInt8], path: String) throws(DiskError) -> QCOW2References? {
        guard bytes.count >= 4, Array(bytes[0..<4]) == magic else { return nil }
        func u32(_ at: Int) -> UInt32? {
            guard at >= 0, at + 4 <= bytes.count else { return nil }
            return bytes[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) }
        }
        func u64(_ at: Int) -> UInt64? {
            guard let high = u32(at), let low = u32(at + 4) else { return nil }
            return UInt64(high) << 32 | UInt64(low)
        }
        guard let version = u32(4), let backingOffset = u64(8), let backingSize = u32(16) else {
            throw .invalidDisk(path: path, reason: "a qcow2 header cut short")
        }
        var references = QCOW2References()
        if backingOffset != 0 || backingSize != 0 {
            // Named even when the name lies beyond what was read: refusing needs no name.
            references.backingFile = text(bytes, offset: backingOffset, size: UInt64(backingSize)) ?? "(at byte \(backingOffset))"
        }
        guard version >= 3 else { return references }
        guard let incompatible = u64(72), let headerLength = u32(100) else { throw .invalidDisk(path: path, reason: "a qcow2 version 3 header cut short") }
        references.hasExternalData = incompatible & (1 << 2) != 0
        // Header extensions: type, length, data padded to 8 bytes, until type 0.
        var at = Int(headerLength)
        while let type = u32(at), type != 0, let length = u32(at + 4) {
            if type == externalDataExtension {
                references.externalDataFile = text(bytes, offset: UInt64(at + 8), size: UInt64(length)) ?? "(unreadable name)"
            }
            let (next, overflow) = (at + 8).addingReportingOverflow((Int(length) + 7) / 8 * 8)
            guard !overflow else { break }
            at = next
        }
        return references
    }

    private static func text(_ bytes: [UInt8], offset: UInt64, size: UInt64) -> String? {
        guard offset <= UInt64(bytes.count), size <= UInt64(bytes.count) - offset else { return nil }
        return String(decoding: bytes[Int(offset)..<Int(offset + size)], as: UTF8.self)
    }

    /// Refuses a qcow2 that names anything outside itself.
    public static func requireSelfContained(path: String) throws(DiskError) {
        guard let references = try read(path: path) else { return }
        if let name = references.backingFile { throw .externalReference(path: path, kind: "backing file", name: name) }
        if let name = references.externalDataFile { throw .externalReference(path: path, kind: "external data file", name: name) }
        if references.hasExternalData { throw .externalReference(path: path, kind: "external data file", name: "(unnamed)") }
    }
}
