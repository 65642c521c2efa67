import Boot
import Disk
import Foundation
import SystemBase

/// The boot partition: FAT, labelled `boot`, holding the kernel, the initramfs and
/// syslinux.cfg, with SYSLINUX installed in it.
enum BootPartition {
    /// SYSLINUX's own files (ldlinux.sys and ldlinux.c32), with room to spare.
    static let bootloaderBytes: Int64 = 512 * 1024

    /// Its size: what it holds plus half again (room to replace the kernel later), whole MiB.
    static func size(for boot: BootArtifacts) -> Int64 {
        let content = boot.files.reduce(bootloaderBytes) { $0 + Int64($1.bytes.count) }
        return ByteSize.roundUp(content + content / 2 + 2 * ByteSize.mebibyte, to: ByteSize.mebibyte)
    }

    /// Formats and fills the partition at `partition.offset`; returns its MBR type.
    /// SYSLINUX goes in first (from `SyslinuxTemplate`, kept in `cacheDirectory`), the files after.
    static func write(
        _ boot: BootArtifacts, to partition: FATPartition, bytes: Int64, serial: UInt32, cacheDirectory: String?,
        scratch: String
    ) throws -> UInt8 {
        // mcopy reads host files: each goes through a temporary one with an unpredictable
        // name beside the output (removed on Ctrl-C too).
        let folder = scratch + "/.oci2disk-boot-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let paths = [folder] + boot.files.map { folder + "/" + $0.name }
        paths.forEach(TemporaryFiles.shared.add)
        defer {
            try? FileManager.default.removeItem(atPath: folder)
            paths.forEach(TemporaryFiles.shared.remove)
        }
        try SyslinuxTemplate.install(
            on: partition, bytes: bytes, label: BootPartitionLayout.label, serial: serial, cacheDirectory: cacheDirectory, scratch: scratch)
        var files: [(source: String, name: String)] = []
        for file in boot.files {
            let path = folder + "/" + file.name
            // A plain write (FileManager's writes atomically, with an fsync per file): a private
            // folder's new file, closed with its error reported.
            do {
                let descriptor = try OwnedDescriptor(opening: path, O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
                try FileIO.writeFully(descriptor.raw, file.bytes, path)
                try descriptor.close(path)
            } catch { throw DiskError.system(error) }
            files.append((path, file.name))
        }
        try partition.copy(files)
        return try partition.partitionType()
    }
}
