import Foundation

/// GRUB for BIOS (i386-pc), installed without mounting or grub-install: boot.img's code goes in
/// the MBR's first 440 bytes (the partition table and disk identifier stay ours) and core.img,
/// made by grub-mkimage with an embedded config, in the gap from sector 1 to the first
/// partition. boot.img looks for core.img at sector 1 by default and grub-mkimage fills in
/// core.img's own block list, so nothing is patched. The embedded config (templates/
/// grub-core.cfg) only hands over to /boot/grub/grub.cfg on the boot partition; it must hold
/// no comments, which GRUB's early parser does not know.
public enum Grub {
    static let moduleDirectory = "/usr/lib/grub/i386-pc"
    static let modules = ["biosdisk", "part_msdos", "ext2", "linux", "serial", "terminal", "echo", "configfile"]

    public struct Images {
        /// The MBR's boot code (440 bytes).
        public let bootCode: [UInt8]
        /// Goes at sector 1.
        public let core: [UInt8]
    }

    public static func images(scratchDirectory: String, maxCoreBytes: Int) throws -> Images {
        let bootImage = moduleDirectory + "/boot.img"
        guard let boot = FileManager.default.contents(atPath: bootImage), boot.count == 512 else {
            throw BootError.bootloader("\(bootImage) missing: install Debian's grub-pc-bin (scripts/setup does)")
        }
        guard let mkimage = ["/usr/bin/grub-mkimage", "/bin/grub-mkimage"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw BootError.bootloader("grub-mkimage missing: install Debian's grub-common (scripts/setup does)")
        }
        // A fresh, unpredictable folder (creation fails if the name exists).
        let work = scratchDirectory + "/.oci2disk-grub-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: work) }
        try Templates.render("grub-core.cfg", [:]).write(toFile: work + "/core.cfg", atomically: false, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: mkimage)
        process.arguments = ["-O", "i386-pc", "-d", moduleDirectory, "-o", work + "/core.img", "-p", "(hd0,msdos1)/boot/grub", "-c", work + "/core.cfg"] + modules
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, let core = FileManager.default.contents(atPath: work + "/core.img") else {
            throw BootError.bootloader("grub-mkimage failed: \(message.split(whereSeparator: \.isNewline).first ?? "")")
        }
        guard core.count <= maxCoreBytes else {
            throw BootError.bootloader("core.img is \(core.count) bytes, more than the \(maxCoreBytes) before the first partition")
        }
        return Images(bootCode: Array(boot.prefix(440)), core: Array(core))
    }
}
