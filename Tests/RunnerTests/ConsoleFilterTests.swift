@testable import Runner
import Testing

@Suite struct ConsoleFilterTests {
    @Test func findsTheStatusLineAndHidesIt() {
        var filter = ConsoleFilter(verbose: false)
        let shown = filter.feed(Array("HELLO\r\n\r\noci2disk: exit status 7\r\n".utf8))
        #expect(String(decoding: shown, as: UTF8.self) == "HELLO\n", "the blank line before the status goes with it")
        #expect(filter.exitStatus == 7)
    }

    @Test func dropsFirmwareAndKernelChatterButNotProgramOutput() {
        var filter = ConsoleFilter(verbose: false)
        let text = "\u{1B}[2JSeaBIOS (version 1.16)\nBooting from Hard Disk...\n[    1.234567] virtio_blk: ok\n[not a kernel line]\nreal output\n"
        let shown = String(decoding: filter.feed(Array(text.utf8)), as: UTF8.self)
        #expect(shown == "[not a kernel line]\nreal output\n")
    }

    @Test func onlyAWholeStatusLineCounts() {
        var filter = ConsoleFilter(verbose: false)
        _ = filter.feed(Array("echo says oci2disk: exit status 0\n".utf8))
        #expect(filter.exitStatus == nil)
    }

    @Test func longLinesWithoutNewlinePassThrough() {
        var filter = ConsoleFilter(verbose: false)
        let shown = filter.feed([UInt8](repeating: UInt8(ascii: "x"), count: 5000))
        #expect(shown.count == 5000)
    }

    @Test func otherBlankLinesStay() {
        var filter = ConsoleFilter(verbose: false)
        let shown = filter.feed(Array("a\n\nb\n".utf8)) + filter.finish()
        #expect(String(decoding: shown, as: UTF8.self) == "a\n\nb\n")
    }

    @Test func verboseShowsEverything() {
        var filter = ConsoleFilter(verbose: true)
        let shown = filter.feed(Array("[    0.1] k\n".utf8))
        #expect(String(decoding: shown, as: UTF8.self) == "[    0.1] k\n")
    }

    @Test func partialLinesWaitForTheirEnd() {
        var filter = ConsoleFilter(verbose: false)
        #expect(filter.feed(Array("oci2disk: exit st".utf8)).isEmpty)
        _ = filter.feed(Array("atus 0\n".utf8))
        #expect(filter.exitStatus == 0)
    }

    @Test func promptsShowBeforeTheirAnswer() {
        var filter = ConsoleFilter(verbose: false)
        let banner = String(decoding: filter.feed(Array("\r\nDebian GNU/Linux 12 box ttyS0\r\n\r\nbox login: ".utf8)), as: UTF8.self)
        #expect(banner.hasPrefix("\nDebian GNU/Linux 12 box ttyS0\n") && banner.hasSuffix("\nbox login: "), "\(banner.debugDescription)")
        #expect(String(decoding: filter.feed(Array("Password: ".utf8)), as: UTF8.self) == "Password: ")
        #expect(String(decoding: filter.feed(Array("root@box:~# ".utf8)), as: UTF8.self) == "root@box:~# ")
        // Not prompts: the status line's start, a kernel message's start, a line mid-word.
        #expect(filter.feed(Array("oci2disk: ".utf8)).isEmpty)
        _ = filter.feed(Array("exit status 3\n".utf8))
        #expect(filter.exitStatus == 3)
        #expect(filter.feed(Array("[    2.5] EXT4-fs (vda2): ".utf8)).isEmpty)
        #expect(filter.feed(Array("mounted\nhalf a li".utf8)).isEmpty)
    }
}

@Suite struct MachineConfigurationTests {
    @Test func portForwardsBindLoopbackOnly() throws {
        var machine = MachineConfiguration(disk: "d.img", statusFile: "/tmp/s")
        machine.ports = [try #require(.init(parsing: "8080:80")), try #require(.init(parsing: "5353:53/udp"))]
        let netdev = machine.arguments().first { $0.hasPrefix("user,") }
        #expect(netdev == "user,id=net0,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp:127.0.0.1:5353-:53")
        #expect(MachineConfiguration.PortForward(parsing: "80") == nil)
        #expect(MachineConfiguration.PortForward(parsing: "0:80") == nil)
    }

    @Test func snapshotUnlessPersisting() {
        var machine = MachineConfiguration(disk: "d.img", statusFile: "/tmp/s")
        #expect(machine.arguments().contains { $0.contains("snapshot=on") })
        #expect(machine.arguments().contains("-no-reboot"))
        machine.persist = true
        #expect(!machine.arguments().contains { $0.contains("snapshot=on") })
        #expect(machine.arguments().contains { $0.contains("cache=writeback") })
        machine.diskFormat = "qcow2"
        #expect(machine.arguments().contains { $0.hasPrefix("file=d.img,if=virtio,format=qcow2,") })
    }
}

@Suite struct BootloaderChatterTests {
    @Test func syslinuxBannerAndItsBlankLineAreHidden() {
        var filter = ConsoleFilter(verbose: false)
        let text = "\r\nSYSLINUX 6.04 20210613 Copyright (C) 1994-2015 H. Peter Anvin et al\r\noci2disk: loading kernel 6.1.0\r\nHELLO\r\n"
        #expect(String(decoding: filter.feed(Array(text.utf8)), as: UTF8.self) == "HELLO\n")
    }
}
