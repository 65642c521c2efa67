/// What an oci2disk boot partition holds, and under which names: written by `convert`
/// (BootPreparation, BootPartition), read back by `run` to boot the disk directly. One
/// description, so the writer and the reader cannot drift apart.
public enum BootPartitionLayout {
    /// The FAT volume label that marks the partition as ours.
    public static let label = "boot"
    public static let kernel = "vmlinuz"
    public static let initramfs = "initrd.img"
    /// SYSLINUX's configuration: its `APPEND` line is the kernel command line.
    public static let bootloaderConfig = "syslinux.cfg"

    /// The files `run` needs to boot without the bootloader.
    public static let bootFiles = [kernel, initramfs, bootloaderConfig]

    /// The kernel command line of a syslinux.cfg: the arguments of its first `APPEND` line
    /// (keywords are case-insensitive to SYSLINUX), or nil when there is none.
    public static func commandLine(ofBootloaderConfig text: String) -> String? {
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.drop { $0 == " " || $0 == "\t" }
            guard line.count > 6, line.prefix(6).uppercased() == "APPEND", line.dropFirst(6).first?.isWhitespace == true else { continue }
            return String(line.dropFirst(6).drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
        }
        return nil
    }
}
