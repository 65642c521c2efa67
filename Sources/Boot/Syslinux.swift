import SystemBase
import Disk
import Foundation

/// SYSLINUX for BIOS, installed without mounting: `syslinux --install --offset` writes its boot
/// sector and ldlinux.sys/ldlinux.c32 into the FAT boot partition inside the image file (through
/// mtools), and the MBR's first 440 bytes get syslinux's mbr.bin, which boots the partition
/// marked active. The partition table and disk identifier stay ours.
///
/// Chosen over GRUB by measurement: under QEMU's software emulation GRUB took about 3–4.6 s
/// more than booting the same kernel directly (it reads the kernel through BIOS calls from
/// protected mode), SYSLINUX well under the 1.5 s budget (docs/performance.md).
public enum Syslinux {
    static let mbrCandidates = ["/usr/lib/syslinux/mbr/mbr.bin", "/usr/lib/SYSLINUX/mbr.bin"]

    /// The MBR boot code (440 bytes).
    public static func mbrCode() throws -> [UInt8] {
        for path in mbrCandidates {
            if let code = FileManager.default.contents(atPath: path), code.count >= 440, code.count <= 512 {
                return Array(code.prefix(440))
            }
        }
        throw BootError.bootloader(
            "syslinux's mbr.bin missing (looked in \(mbrCandidates.joined(separator: ", "))): install Debian's syslinux-common")
    }

    /// The configuration file, from templates/syslinux.cfg.
    public static func config(commandLine: String, kernelVersion: String, templates: Templates) throws -> String {
        try templates.render("syslinux.cfg", ["cmdline": commandLine, "kernel_version": kernelVersion])
    }

    /// Installs the boot sector and ldlinux.* into the FAT partition at `partition.offset`.
    public static func install(on partition: FATPartition) throws {
        guard let tool = Executable.find("syslinux", in: Executable.system) else {
            throw BootError.bootloader("syslinux missing: install Debian's syslinux and mtools")
        }
        do {
            _ = try FATPartition.execute(
                tool, ["--install", "--offset", "\(partition.offset)", partition.image],
                environment: ["SOURCE_DATE_EPOCH": "\(partition.time)"])
        } catch {
            throw BootError.bootloader("\(error)")
        }
    }
}
