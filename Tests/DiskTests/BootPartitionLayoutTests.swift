import Disk
import Testing

/// The boot partition's contract between `convert` (which writes syslinux.cfg from
/// templates/syslinux.cfg) and `run` (which boots its kernel directly with the same line).
@Suite struct BootPartitionLayoutTests {
    @Test func theCommandLineIsTheFirstAppendLine() {
        let config = """
            # APPEND in a comment is not one
            DEFAULT linux
            LABEL linux
              KERNEL /vmlinuz
              append  console=ttyS0 root=UUID=x quiet\t
            LABEL other
              APPEND second
            """
        #expect(BootPartitionLayout.commandLine(ofBootloaderConfig: config) == "console=ttyS0 root=UUID=x quiet")
    }

    @Test func withoutAnAppendLineThereIsNone() {
        #expect(BootPartitionLayout.commandLine(ofBootloaderConfig: "DEFAULT linux\nAPPENDIX x\n") == nil)
        #expect(BootPartitionLayout.commandLine(ofBootloaderConfig: "") == nil)
    }

    @Test func theFilesRunNeedsAreTheOnesConvertWrites() {
        #expect(BootPartitionLayout.bootFiles == ["vmlinuz", "initrd.img", "syslinux.cfg"])
        #expect(BootPartitionLayout.label == "boot")
    }
}
