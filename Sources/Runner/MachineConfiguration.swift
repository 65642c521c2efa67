import Foundation

/// Everything that shapes the QEMU command line.
public struct MachineConfiguration: Sendable {
    public struct PortForward: Sendable, Equatable {
        public var host: UInt16
        public var guest: UInt16
        public var udp = false

        /// `HOST:GUEST` or `HOST:GUEST/udp`.
        public init?(parsing text: String) {
            var spec = Substring(text)
            if spec.hasSuffix("/udp") { udp = true; spec = spec.dropLast(4) } else if spec.hasSuffix("/tcp") { spec = spec.dropLast(4) }
            let parts = spec.split(separator: ":")
            guard parts.count == 2, let host = UInt16(parts[0]), let guest = UInt16(parts[1]), host > 0, guest > 0 else { return nil }
            self.host = host
            self.guest = guest
        }
    }

    public var disk: String
    /// `raw` or `qcow2`, as QEMU's -drive format (never guessed by QEMU: that is unsafe).
    public var diskFormat = "raw"
    public var memoryMiB = 512
    public var cpus = 1
    /// -snapshot: the disk is never modified unless asked.
    public var persist = false
    public var ports: [PortForward] = []
    public var extraArguments: [String] = []
    public var kvm = false
    public var direct: BootFiles?
    /// Added to the kernel command line on a direct boot (e.g. `oci2disk.args=…`).
    public var appendToCommandLine: [String] = []
    /// Where the init's second serial port (ttyS1) writes the exit status.
    public var statusFile: String

    public init(disk: String, statusFile: String) {
        self.disk = disk
        self.statusFile = statusFile
    }

    public static let qemuBinary = "qemu-system-x86_64"

    public func arguments() -> [String] {
        var args = ["-nodefaults", "-no-user-config", "-no-reboot", "-display", "none",
                    "-machine", "pc,accel=\(kvm ? "kvm" : "tcg")", "-m", "\(memoryMiB)", "-smp", "\(cpus)"]
        if kvm { args += ["-cpu", "host"] }
        // ttyS0: the console, on QEMU's stdout. ttyS1: a file for the exit status.
        args += ["-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console", "-serial", "file:\(statusFile)"]
        args += ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
        // A throw-away snapshot needs no flushes (cache=unsafe); kept changes do.
        // QEMU's option syntax: a comma inside a value is written twice, else it starts a new option.
        let file = disk.replacingOccurrences(of: ",", with: ",,")
        args += ["-drive", "file=\(file),if=virtio,format=\(diskFormat)" + (persist ? ",cache=writeback" : ",cache=unsafe,snapshot=on")]
        let forwards = ports.map { ",hostfwd=\($0.udp ? "udp" : "tcp"):127.0.0.1:\($0.host)-:\($0.guest)" }.joined()
        // romfile=: no iPXE option ROM for the firmware to start; the disk is what boots.
        args += ["-netdev", "user,id=net0" + forwards, "-device", "virtio-net-pci,netdev=net0,romfile="]
        if let direct {
            args += ["-kernel", direct.kernel, "-initrd", direct.initrd,
                     "-append", ([direct.commandLine] + appendToCommandLine).joined(separator: " ")]
        }
        return args + extraArguments
    }
}
