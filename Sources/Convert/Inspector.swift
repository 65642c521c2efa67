import SystemBase
import Disk
import Ext4
import Foundation

/// `inspect`: the partition table, what libblkid finds in each partition, and the files: read
/// back through libext2fs for ext4, through mtools for the FAT boot partition.
public enum Inspector {
    public struct Report: Codable, Sendable {
        public var path: String
        /// The disk's format: raw, or the one its header names (read through qemu-img).
        public var format: String
        /// The file's own size.
        public var fileSize: Int64
        /// The disk's size (for raw, the file's).
        public var size: Int64
        public var partitionTable: String
        public var diskIdentifier: String?
        public var partitions: [PartitionReport]
    }

    public struct PartitionReport: Codable, Sendable {
        public var index: Int
        public var start: Int64
        public var size: Int64
        public var type: String?
        public var bootable: Bool?
        public var filesystem: FilesystemReport?
    }

    public struct FilesystemReport: Codable, Sendable {
        public var type: String?
        public var uuid: String?
        public var label: String?
        public var files: Int?
        public var blocks: Int64?
        public var freeBlocks: Int64?
        public var entries: [EntryReport]?
    }

    public struct EntryReport: Codable, Sendable {
        public var path: String
        public var type: String
        public var mode: Int
        public var uid: UInt32
        public var gid: UInt32
        public var size: Int64
        public var target: String?
        public var xattrs: [String]
        public var nlink: Int
        public var inode: UInt32
        public var mtime: String
        public var rdev: [UInt32]?
        public var blocks: Int64
    }

    public static func inspect(path: String, listFiles: Bool) throws -> Report {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let fileSize = (attributes[.size] as? NSNumber)?.int64Value
        else {
            throw DiskError.system(.call(path, errno: ENOENT))
        }
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        let header = [UInt8](try handle.read(upToCount: 4096) ?? Data())
        try handle.close()
        let format = DiskImageFormat.detect(header)
        // Never read through what a disk names (a backing file on the host, a URL, extents).
        try DiskImageFormat.requireSelfContained(path: path, format: format, header: header)
        guard format != .raw else {
            return try inspect(raw: path, shownAs: path, format: format, fileSize: fileSize, listFiles: listFiles)
        }
        // Another format: its disk, expanded into a private sparse file for the readers below.
        let expanded = try PrivateTemporary.file(in: NSTemporaryDirectory(), prefix: "oci2disk-inspect")
        TemporaryFiles.shared.add(expanded)
        defer {
            unlink(expanded)
            TemporaryFiles.shared.remove(expanded)
        }
        try ImageFormats.expand(path, format: format, to: expanded)
        return try inspect(raw: expanded, shownAs: path, format: format, fileSize: fileSize, listFiles: listFiles)
    }

    private static func inspect(raw path: String, shownAs shown: String, format: DiskImageFormat, fileSize: Int64, listFiles: Bool) throws -> Report {
        let size = ((try FileManager.default.attributesOfItem(atPath: path))[.size] as? NSNumber)?.int64Value ?? 0
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        let sector = [UInt8](try handle.read(upToCount: 512) ?? Data())
        try handle.close()

        if let mbr = MBR.decode(sector) {
            let partitions = try mbr.partitions.enumerated().map { index, partition in
                PartitionReport(
                    index: index + 1, start: partition.startByte, size: partition.sizeBytes,
                    type: "0x" + String(partition.type, radix: 16).leftPadded(2), bootable: partition.bootable,
                    filesystem: try filesystem(path: path, start: partition.startByte, size: partition.sizeBytes, listFiles: listFiles))
            }
            return Report(
                path: shown, format: format.rawValue, fileSize: fileSize, size: size, partitionTable: "mbr",
                diskIdentifier: "0x" + String(mbr.diskIdentifier, radix: 16).leftPadded(8), partitions: partitions)
        }
        let whole = PartitionReport(
            index: 0, start: 0, size: size, type: nil, bootable: nil,
            filesystem: try filesystem(path: path, start: 0, size: size, listFiles: listFiles))
        return Report(path: shown, format: format.rawValue, fileSize: fileSize, size: size, partitionTable: "none", diskIdentifier: nil, partitions: [whole])
    }

    private static func filesystem(path: String, start: Int64, size: Int64, listFiles: Bool) throws -> FilesystemReport? {
        guard let probed = try BlockProbe(path: path, offset: start, size: size).filesystem() else { return nil }
        var report = FilesystemReport(type: probed.type, uuid: probed.uuid, label: probed.label)
        if probed.type == "vfat" {
            // The boot partition: FAT has no owners, modes or inodes, so only names and sizes.
            let fat = FATPartition(image: path, offset: start)
            if listFiles {
                let files = try fat.files()
                report.files = files.count
                report.entries = files.map { file in
                    EntryReport(
                        path: file.path, type: "file", mode: 0o644, uid: 0, gid: 0, size: file.size,
                        target: nil, xattrs: [], nlink: 1, inode: 0, mtime: "", rdev: nil, blocks: 0)
                }
            } else {
                report.files = try fat.list().count
            }
            return report
        }
        guard ["ext2", "ext3", "ext4"].contains(probed.type ?? "") else { return report }
        let reader = try Ext4Reader(path: path, offset: start)
        report.blocks = reader.blockCount
        report.freeBlocks = reader.freeBlocks
        if listFiles {
            var entries: [EntryReport] = []
            try reader.walk { entries.append(entryReport($0)) }
            report.entries = entries
            report.files = entries.count
        } else {
            // Counted without keeping a path: a crafted disk of long nested names stays small.
            report.files = try reader.count()
        }
        return report
    }

    private static func entryReport(_ entry: Ext4Entry) -> EntryReport {
        EntryReport(
            path: escaped(entry.path), type: entry.kind.rawValue, mode: Int(entry.permissions), uid: entry.uid, gid: entry.gid,
            size: entry.size, target: entry.linkTarget.map(escaped), xattrs: entry.xattrNames, nlink: entry.links,
            inode: entry.inode, mtime: "\(entry.mtimeSeconds).\(String(entry.mtimeNanoseconds).leftPadded(9))",
            rdev: entry.device.map { [$0.major, $0.minor] }, blocks: entry.allocatedBlocks)
    }

    /// UTF-8 as is; other bytes (and backslash) as \xNN, so every name prints on one line.
    static func escaped(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self), !text.contains("\\"), !text.contains(where: { $0.isNewline }) {
            return text
        }
        var result = ""
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\\") {
                result.append(Character(Unicode.Scalar(byte)))
                index += 1
                continue
            }
            // Keep valid multi-byte UTF-8 sequences readable.
            let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
            if length > 1, index + length <= bytes.count, let text = String(validating: bytes[index..<(index + length)], as: UTF8.self) {
                result += text
                index += length
                continue
            }
            result += "\\x" + String(byte, radix: 16).leftPadded(2)
            index += 1
        }
        return result
    }
}
