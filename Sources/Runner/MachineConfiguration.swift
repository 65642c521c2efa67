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

    /// How the guest reaches networks.
    public enum Network: Sendable, Equatable {
        /// No network card at all.
        case none
        /// Outbound connections and `-p` forwards through passt, whose gateway address is not
        /// mapped to the host: services bound only to the host's loopback stay out of reach, as
        /// with `docker run` or rootless podman. `socket` is where passt listens for QEMU.
        case isolated(socket: String)
        /// QEMU's user networking: 10.0.2.2 is the host's 127.0.0.1 (the explicit opt-in).
        case hostLoopback
    }

    public var disk: String
    /// `raw` or `qcow2`, as QEMU's -drive format (never guessed by QEMU: that is unsafe).
    public var diskFormat = "raw"
    public var memoryMiB = 512
    public var cpus = 1
    /// -snapshot: the disk is never modified unless asked.
    public var persist = false
    public var ports: [PortForward] = []
    public var network = Network.hostLoopback
    public var extraArguments: [String] = []
    public var kvm = false
    public var direct: BootFiles?
    /// Added to the kernel command line on a direct boot (e.g. `oci2disk.args=…`).
    public var appendToCommandLine: [String] = []
    /// Where the init's second serial port (ttyS1) writes the exit status.
    public var statusFile: String
    /// Where QEMU and passt are looked for: the caller's PATH (a newer QEMU may be installed
    /// elsewhere), then Debian's place. The command line passes its environment's.
    public var searchPath = "/usr/bin"

    public init(disk: String, statusFile: String) {
        self.disk = disk
        self.statusFile = statusFile
    }

    public static let qemuBinary = "qemu-system-x86_64"

    /// The guest's side as the init configures it (QEMU user networking's plan, which passt is
    /// told to follow): address, prefix, gateway, and the DNS forwarder's address.
    public static let guestAddress = "10.0.2.15", guestPrefix = 24, gatewayAddress = "10.0.2.2", dnsAddress = "10.0.2.3"

    /// passt's arguments for `.isolated`: the same addresses as user networking, the gateway not
    /// mapped to the host (`--no-map-gw`), DNS to 10.0.2.3 forwarded to the host's resolver,
    /// `-p` forwards bound on 127.0.0.1 only; in the foreground, stopped once QEMU is gone (this
    /// passt's `--one-off` quits before any client connects).
    public func passtArguments(socket: String) -> [String] {
        var args = [
            "--foreground", "--quiet", "--socket", socket, "--ipv4-only", "--no-map-gw",
            "--address", Self.guestAddress, "--netmask", "\(Self.guestPrefix)", "--gateway", Self.gatewayAddress,
            "--dns-forward", Self.dnsAddress, "--no-dhcp-dns", "--no-dhcp-search"
        ]
        for udp in [false, true] {
            let option = udp ? "--udp-ports" : "--tcp-ports"
            let forwards = ports.filter { $0.udp == udp }
            if forwards.isEmpty { args += [option, "none"] }
            for forward in forwards { args += [option, "127.0.0.1/\(forward.host):\(forward.guest)"] }
        }
        return args
    }

    public func arguments() -> [String] {
        var args = [
            "-nodefaults", "-no-user-config", "-no-reboot", "-display", "none",
            "-machine", "pc,accel=\(kvm ? "kvm" : "tcg")", "-m", "\(memoryMiB)", "-smp", "\(cpus)"
        ]
        if kvm { args += ["-cpu", "host"] }
        // ttyS0: the console, on QEMU's stdout. ttyS1: a file for the exit status.
        args += ["-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console", "-serial", "file:\(statusFile)"]
        args += ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
        // A throw-away snapshot needs no flushes (cache=unsafe); kept changes do.
        // QEMU's option syntax: a comma inside a value is written twice, else it starts a new option.
        let file = disk.replacingOccurrences(of: ",", with: ",,")
        args += ["-drive", "file=\(file),if=virtio,format=\(diskFormat)" + (persist ? ",cache=writeback" : ",cache=unsafe,snapshot=on")]
        switch network {
        case .none:
            break
        case .isolated(let socket):
            args += ["-netdev", "stream,id=net0,server=off,addr.type=unix,addr.path=" + socket.replacingOccurrences(of: ",", with: ",,")]
        case .hostLoopback:
            let forwards = ports.map { ",hostfwd=\($0.udp ? "udp" : "tcp"):127.0.0.1:\($0.host)-:\($0.guest)" }.joined()
            args += ["-netdev", "user,id=net0" + forwards]
        }
        // romfile=: no iPXE option ROM for the firmware to start; the disk is what boots.
        if network != .none { args += ["-device", "virtio-net-pci,netdev=net0,romfile="] }
        if let direct {
            args += [
                "-kernel", direct.kernel, "-initrd", direct.initrd,
                "-append", ([direct.commandLine] + appendToCommandLine).joined(separator: " ")
            ]
        }
        return args + extraArguments
    }
}
