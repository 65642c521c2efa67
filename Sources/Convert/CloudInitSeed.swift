import Disk
import Foundation

/// A cloud-init NoCloud seed: a small FAT partition labelled CIDATA holding the user's
/// `user-data` and `meta-data` (and `network-config`, `vendor-data` when given). cloud-init's
/// NoCloud source finds it by its label; it is made without mounting, like the boot partition.
struct CloudInitSeed {
    static let label = "CIDATA"
    static let required = ["user-data", "meta-data"]
    static let optional = ["network-config", "vendor-data"]
    /// Seeds are a few KiB; anything far larger is a mistake (a wrong folder).
    static let maxFileBytes: Int64 = 16 << 20

    let folder: String
    /// (host path, name in the seed), in a fixed order.
    let files: [(source: String, name: String)]
    let bytes: Int64

    /// Reads and checks the folder up front, before any layer: each file must be a regular
    /// file (not a link: the seed holds exactly what the folder holds).
    init(folder: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ConvertError.cloudInit(folder: folder, problem: "no such folder")
        }
        var files: [(String, String)] = []
        var total: Int64 = 0
        for name in Self.required + Self.optional {
            let path = folder + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else {
                if Self.required.contains(name) {
                    throw ConvertError.cloudInit(folder: folder, problem: "\(name) is missing (NoCloud needs user-data and meta-data; meta-data may be empty)")
                }
                continue
            }
            guard info.st_mode & S_IFMT == S_IFREG else { throw ConvertError.cloudInit(folder: folder, problem: "\(name) is not a regular file") }
            guard access(path, R_OK) == 0 else { throw ConvertError.cloudInit(folder: folder, problem: "\(name): \(String(cString: strerror(errno)))") }
            guard info.st_size <= Self.maxFileBytes else { throw ConvertError.cloudInit(folder: folder, problem: "\(name) is larger than 16 MiB") }
            total += Int64(info.st_size)
            files.append((path, name))
        }
        self.folder = folder
        self.files = files
        // The files plus FAT's own tables, in whole MiB (the partition alignment).
        bytes = ByteSize.roundUp(total + total / 8 + ByteSize.mebibyte, to: ByteSize.mebibyte)
    }

    /// Formats the partition at `partition.offset` and copies the files in; returns its MBR type.
    func write(to partition: FATPartition, serial: UInt32) throws -> UInt8 {
        try partition.format(bytes: bytes, label: Self.label, serial: serial)
        try partition.copy(files)
        return try partition.partitionType()
    }
}
