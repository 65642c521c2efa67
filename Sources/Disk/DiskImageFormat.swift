import Foundation

/// What kind of disk image a file is, from its first bytes: the formats `convert` writes.
/// Used to read a disk through its format instead of as raw bytes.
public enum DiskImageFormat: String, Sendable, Equatable {
    case raw, qcow2, vmdk, vhdx, vdi

    /// The format the header names; raw when it names none.
    public static func detect(_ header: [UInt8]) -> DiskImageFormat {
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            header.count >= offset + magic.count && Array(header[offset..<(offset + magic.count)]) == magic
        }
        if starts([0x51, 0x46, 0x49, 0xFB]) { return .qcow2 }  // "QFI\xfb"
        if starts(Array("KDMV".utf8)) || starts(Array("# Disk DescriptorFile".utf8)) { return .vmdk }
        if starts(Array("vhdxfile".utf8)) { return .vhdx }
        if starts([0x7F, 0x10, 0xDA, 0xBE], at: 0x40) { return .vdi }  // 0xbeda107f, little-endian
        return .raw
    }

    /// Refuses what would make qemu-img open other host files: a qcow2 naming a backing or
    /// data file, a VMDK that is a text descriptor (its extents are other files). A sparse
    /// VMDK (`KDMV`, what `convert` writes) is one file; VHDX and VDI differencing disks are
    /// not supported by qemu-img's drivers, which refuse them.
    public static func requireSelfContained(path: String, format: DiskImageFormat, header: [UInt8]) throws {
        switch format {
        case .qcow2: try QCOW2References.requireSelfContained(path: path)
        case .vmdk:
            guard Array(header.prefix(4)) == Array("KDMV".utf8) else {
                throw DiskError.externalReference(path: path, kind: "VMDK descriptor", name: "its extents (only single-file sparse VMDKs are read)")
            }
        case .raw, .vhdx, .vdi: break
        }
    }
}
