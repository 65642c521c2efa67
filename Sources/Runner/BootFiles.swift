import SystemBase
import Disk
import Foundation

/// The kernel, initramfs and command line on an oci2disk boot partition, for booting them
/// directly (`-kernel/-initrd`), which skips the firmware and the bootloader.
public struct BootFiles: Sendable {
    /// The disk's kernel.
    public let bzImage: String
    /// After `preferUncompressed`: the cached vmlinux QEMU enters through PVH, if the kernel has one.
    public private(set) var uncompressedKernel: String?
    public let initrd: String
    public let commandLine: String
    /// The temporary folder the files were extracted to (nil for files in the cache).
    let scratch: String?

    init(bzImage: String, uncompressedKernel: String? = nil, initrd: String, commandLine: String, scratch: String?) {
        self.bzImage = bzImage
        self.uncompressedKernel = uncompressedKernel
        self.initrd = initrd
        self.commandLine = commandLine
        self.scratch = scratch
    }

    /// The kernel QEMU boots.
    public var kernel: String { uncompressedKernel ?? bzImage }

    /// Reads them from the FAT partition labelled `boot`; nil when the disk has none.
    public static func extract(from disk: String, into scratch: String) throws -> BootFiles? {
        let report = try MBR.read(path: disk)
        guard let mbr = report else { return nil }
        for partition in mbr.partitions {
            guard let probed = try BlockProbe(path: disk, offset: partition.startByte, size: partition.sizeBytes).filesystem(),
                probed.label == BootPartitionLayout.label, probed.type == "vfat"
            else { continue }
            guard FATPartition.toolsInstalled else { throw RunError.missingTool(tool: "mtools", purpose: "it reads the boot partition", package: "mtools") }
            // 0700: the kernel and initramfs are the user's, and a shared $TMPDIR is no place to swap them.
            let directory = try PrivateTemporary.directory(in: scratch, prefix: "oci2disk-boot")
            do {
                let fat = FATPartition(image: disk, offset: partition.startByte)
                // Not an oci2disk boot partition after all (a file is missing): boot it through
                // the BIOS. Any other failure (mtools broken, the disk unreadable) is an error,
                // not a quiet change of how the disk boots.
                let present = Set(try fat.list().map { $0.lowercased() })
                guard BootPartitionLayout.bootFiles.allSatisfy({ present.contains("/" + $0) }) else {
                    try? FileManager.default.removeItem(atPath: directory)
                    return nil
                }
                try fat.copyOut(BootPartitionLayout.bootFiles, to: directory)
            } catch {
                try? FileManager.default.removeItem(atPath: directory)
                throw RunError.unreadableBootPartition(disk: disk, reason: "\(error)")
            }
            // `APPEND ARGS…`: the same command line SYSLINUX would pass.
            let configPath = directory + "/" + BootPartitionLayout.bootloaderConfig
            let config: String
            do { config = try String(contentsOfFile: configPath, encoding: .utf8) } catch {
                try? FileManager.default.removeItem(atPath: directory)
                throw RunError.unreadableBootPartition(disk: disk, reason: "\(BootPartitionLayout.bootloaderConfig): \(error.localizedDescription)")
            }
            guard let commandLine = BootPartitionLayout.commandLine(ofBootloaderConfig: config) else {
                try? FileManager.default.removeItem(atPath: directory)
                return nil
            }
            return BootFiles(
                bzImage: directory + "/" + BootPartitionLayout.kernel, initrd: directory + "/" + BootPartitionLayout.initramfs,
                commandLine: commandLine, scratch: directory)
        }
        return nil
    }

    /// The same from a qcow2 disk: `qemu-img dd` copies the sectors up to the end of the boot
    /// partition into a raw file first (qemu-img reads every qcow2 variant; nothing else is read).
    public static func extract(fromQCOW2 disk: String, into scratch: String) throws -> BootFiles? {
        // qemu-img follows what a qcow2 names: refuse before it opens the disk.
        try QCOW2References.requireSelfContained(path: disk)
        let head = try PrivateTemporary.file(in: scratch, prefix: "oci2disk-head")
        defer { unlink(head) }
        try qemuImgCopy(disk, sectors: 1, to: head)
        guard let mbr = try MBR.read(path: head), let boot = mbr.partitions.first(where: \.bootable) ?? mbr.partitions.first else { return nil }
        let end = Int64(boot.firstSector) + Int64(boot.sectorCount)
        // An oci2disk boot partition is tens of MiB; a table pointing further is not ours.
        guard end <= 4 << 21 else { return nil }
        try qemuImgCopy(disk, sectors: end, to: head)
        return try extract(from: head, into: scratch)
    }

    private static func qemuImgCopy(_ disk: String, sectors: Int64, to path: String) throws {
        guard let tool = Executable.find("qemu-img", in: Executable.system) else {
            throw RunError.missingTool(tool: "qemu-img", purpose: "it reads qcow2 disks", package: "qemu-utils")
        }
        let result = try ChildProcess.collect(tool, ["dd", "-f", "qcow2", "-O", "raw", "bs=512", "count=\(sectors)", "if=\(disk)", "of=\(path)"])
        guard result.status == 0 else { throw RunError.toolFailed(tool: "qemu-img reading \(disk)", message: result.errorLine) }
    }

    /// Deletes extracted files (never cached ones).
    public func remove() {
        if let scratch { try? FileManager.default.removeItem(atPath: scratch) }
    }

    /// Boots the uncompressed kernel when it has a PVH entry (see `PVHKernel`).
    public mutating func preferUncompressed(cacheDirectory: String) {
        uncompressedKernel = PVHKernel.cachedUncompressed(bzImage: bzImage, cacheDirectory: cacheDirectory)
    }
}

extension MBR {
    /// The partition table of a disk image file, if it has one.
    public static func read(path: String) throws -> MBR? {
        do throws(SystemError) {
            let file = try OwnedDescriptor(opening: path, O_RDONLY)
            var sector = [UInt8](repeating: 0, count: 512)
            let count = try sector.withMutableSystemBytes { (buffer) throws(SystemError) in try FileIO.read(file.raw, into: buffer, at: 0, "\(path): read") }
            return MBR.decode(Array(sector.prefix(count)))
        } catch {
            throw RunError.system(error)
        }
    }
}
