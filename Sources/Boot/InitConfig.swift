import OCIModels

/// What the guest init is told, written to `/oci2disk/config` in the initramfs: one
/// `key value` per line, values percent-encoded so any argument survives.
public struct InitConfig: Equatable, Sendable {
    public enum Mode: String, Sendable, CaseIterable { case app, system }

    public var mode: Mode
    public var rootUUID: String
    /// Module paths inside the initramfs, dependencies first.
    public var modules: [String] = []
    /// The Entrypoint and the Cmd, kept apart: `run IMAGE -- ARGS` replaces only the Cmd.
    public var entrypoint: [String] = []
    public var cmd: [String] = []
    /// What runs: the entrypoint followed by the Cmd.
    public var arguments: [String] { entrypoint + cmd }
    public var environment: [String] = []
    public var workingDirectory: String?
    public var user: String?
    public var hostname = "oci2disk"
    /// The image's own init, in system mode.
    public var systemInit = "/sbin/init"
    /// Grow the root partition and its ext4 to the end of the disk at boot (`--grow-root`).
    public var growRoot = false

    public init(mode: Mode, rootUUID: String) {
        self.mode = mode
        self.rootUUID = rootUUID
    }

    /// Settings an image asks for, then the user's overrides (`RunOverrides`' rule).
    public mutating func apply(image: RunConfig?, overrides: RunOverrides) {
        let applied = overrides.applied(to: image)
        entrypoint = applied.entrypoint
        cmd = applied.cmd
        environment = applied.environment
        workingDirectory = applied.workingDirectory
        user = applied.user
        if let hostname = overrides.hostname { self.hostname = hostname }
    }

    public func render() -> String {
        var lines = ["mode \(mode.rawValue)", "root-uuid \(rootUUID)", "root-fstype ext4", "hostname \(Self.encode(hostname))"]
        lines += modules.map { "module \(Self.encode($0))" }
        lines += entrypoint.map { "entrypoint \(Self.encode($0))" }
        lines += cmd.map { "arg \(Self.encode($0))" }
        lines += environment.map { "env \(Self.encode($0))" }
        if let workingDirectory { lines.append("workdir \(Self.encode(workingDirectory))") }
        if let user { lines.append("user \(Self.encode(user))") }
        if mode == .system { lines.append("init \(Self.encode(systemInit))") }
        if growRoot { lines.append("grow-root 1") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Percent-encodes everything but unreserved printable ASCII.
    public static func encode(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            let keep = (byte >= 0x21 && byte <= 0x7E) && byte != UInt8(ascii: "%") && byte != UInt8(ascii: ",")
            result += keep ? String(UnicodeScalar(byte)) : "%" + String(byte, radix: 16, uppercase: true).leftPadded(2)
        }
        return result
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
