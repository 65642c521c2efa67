/// What the initramfs builder tells the guest init (PID 1), in `/oci2disk/config`: rendered by
/// Boot, parsed by the init. Python's boot_init.py has an independent parser for the tests.
///
/// Format: UTF-8 text, one `key value` per line, split at the first space; the value is
/// percent-encoded (`%25` for `%`, `%0A` for a newline, `%20` optional for a space). Blank lines
/// and lines starting with `#` are skipped, unknown keys ignored (a newer builder may know more
/// than an older init). Repeated keys (`module`, `entrypoint`, `arg`, `env`) keep their order;
/// for the others the last line wins.
public struct InitConfig: Equatable, Sendable {
    /// Where the file is in the initramfs.
    public static let path = "/oci2disk/config"

    public enum Mode: String, Equatable, Sendable, CaseIterable {
        /// Run one command (a container) and power off with its exit status.
        case app
        /// Hand the machine to the image's own init.
        case system
    }

    public var mode: Mode = .app
    /// The ext4 filesystem UUID of the root.
    public var rootUUID: UUID16?
    public var rootFSType = "ext4"
    /// mount(8)-style options (`noatime,commit=30`); flag words become mount flags.
    public var rootOptions = ""
    /// Kernel module files in the initramfs, loaded in this order (dependencies first).
    public var modules: [String] = []
    /// The Entrypoint and the Cmd, kept apart: `run IMAGE -- ARGS` (`oci2disk.args=`) replaces
    /// only the Cmd, as `docker run IMAGE ARGS…` does.
    public var entrypoint: [String] = []
    public var cmd: [String] = []
    /// `KEY=VALUE` entries.
    public var environment: [String] = []
    /// nil: `/`.
    public var workingDirectory: String?
    /// `name`, `uid`, `uid:gid`, `name:group` (see `UserDatabase.resolve`); nil: root.
    public var user: String?
    public var hostname = "oci2disk"
    /// The image's own init, in system mode.
    public var systemInit = "/sbin/init"
    /// Lower the kernel's console log level so kernel messages stay out of the command's output.
    public var consoleQuiet = false
    /// Grow the root partition and its ext4 to the end of the disk at boot (`--grow-root`).
    public var growRoot = false

    public init(mode: Mode = .app, rootUUID: UUID16? = nil) {
        self.mode = mode
        self.rootUUID = rootUUID
    }

    /// What runs: the entrypoint followed by the Cmd.
    public var arguments: [String] { entrypoint + cmd }

    public func render() -> String {
        let encode = PercentEncoding.encode
        var lines = ["mode \(mode.rawValue)"]
        if let rootUUID { lines.append("root-uuid \(rootUUID)") }
        lines += ["root-fstype \(encode(rootFSType))", "hostname \(encode(hostname))"]
        if !rootOptions.isEmpty { lines.append("root-options \(encode(rootOptions))") }
        lines += modules.map { "module \(encode($0))" }
        lines += entrypoint.map { "entrypoint \(encode($0))" }
        lines += cmd.map { "arg \(encode($0))" }
        lines += environment.map { "env \(encode($0))" }
        if let workingDirectory { lines.append("workdir \(encode(workingDirectory))") }
        if let user { lines.append("user \(encode(user))") }
        if mode == .system { lines.append("init \(encode(systemInit))") }
        if consoleQuiet { lines.append("console-quiet 1") }
        if growRoot { lines.append("grow-root 1") }
        return lines.joined(separator: "\n") + "\n"
    }

    public init(parsing text: String) throws(InitConfigError) {
        var lineNumber = 0
        // "\r\n" is one Character in Swift, so a CRLF line ending is matched as a whole.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            if line.isEmpty || line.first == "#" { continue }
            let key: Substring, encoded: Substring
            if let space = line.firstIndex(of: " ") {
                key = line[..<space]
                encoded = line[line.index(after: space)...]
            } else {
                key = line
                encoded = ""
            }
            let value: String
            do {
                value = try PercentEncoding.decode(encoded)
            } catch {
                throw .badLine(lineNumber, "\(key): \(error)")
            }
            try apply(key: String(key), value: value, line: lineNumber)
        }
        guard rootUUID != nil else { throw .missing("root-uuid") }
    }

    private mutating func apply(key: String, value: String, line: Int) throws(InitConfigError) {
        switch key {
        case "mode":
            guard let parsed = Mode(rawValue: value) else { throw .badLine(line, "mode must be app or system, not \"\(value)\"") }
            mode = parsed
        case "root-uuid":
            guard let uuid = UUID16(parsing: value) else { throw .badLine(line, "root-uuid \"\(value)\" is not a UUID") }
            rootUUID = uuid
        case "root-fstype":
            guard !value.isEmpty else { throw .badLine(line, "root-fstype is empty") }
            rootFSType = value
        case "root-options":
            rootOptions = value
        case "module":
            guard value.hasPrefix("/") else { throw .badLine(line, "module path \"\(value)\" is not absolute") }
            modules.append(value)
        case "entrypoint":
            entrypoint.append(value)
        case "arg":
            cmd.append(value)
        case "env":
            guard let equals = value.firstIndex(of: "="), equals != value.startIndex else {
                throw .badLine(line, "env \"\(value)\" is not KEY=VALUE")
            }
            environment.append(value)
        case "workdir":
            workingDirectory = value.isEmpty ? nil : value
        case "user":
            user = value.isEmpty ? nil : value
        case "hostname":
            hostname = value.isEmpty ? "oci2disk" : value
        case "init":
            guard value.hasPrefix("/") else { throw .badLine(line, "init \"\(value)\" is not an absolute path") }
            systemInit = value
        case "console-quiet":
            consoleQuiet = Self.isTrue(value)
        case "grow-root":
            growRoot = Self.isTrue(value)
        default:
            break
        }
    }

    private static func isTrue(_ value: String) -> Bool { value == "1" || value == "true" || value == "yes" }
}

/// A config file the init cannot use.
public enum InitConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A line that cannot be used (1-based line number, and why).
    case badLine(Int, String)
    /// A required key is missing.
    case missing(String)

    public var description: String {
        switch self {
        case .badLine(let line, let reason): "\(InitConfig.path):\(line): \(reason)"
        case .missing(let key): "\(InitConfig.path): missing \(key)"
        }
    }
}

/// What every guest process gets unless the image or the user says otherwise.
public enum GuestDefaults {
    /// The PATH Docker and runc give a process whose image sets none.
    public static let path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}
