/// What the initramfs builder tells PID 1, read from `/oci2disk/config`.
///
/// Format: UTF-8 text, one `key value` per line, split at the first space; the value is
/// percent-encoded (`%25` for `%`, `%0A` for a newline, `%20` optional for a space). Blank lines
/// and lines starting with `#` are skipped, unknown keys ignored. Repeated keys (`arg`, `env`,
/// `module`) keep their order; for the others the last line wins.
struct InitConfig: Equatable {
    static let path = "/oci2disk/config"

    enum Mode: String, Equatable {
        /// Run one command (a container) and power off with its exit status.
        case app
        /// Hand the machine to the image's own init.
        case system
    }

    var mode: Mode = .app
    /// The ext4 filesystem UUID of the root (`8-4-4-4-12` hex).
    var rootUUID: UUID16?
    var rootFSType = "ext4"
    /// mount(8)-style options (`noatime,commit=30`); flag words become mount flags.
    var rootOptions = ""
    /// Kernel module files in the initramfs, loaded in this order.
    var modules: [String] = []
    /// The image's Entrypoint: kept when `oci2disk.args=` replaces the Cmd (`arg` lines), as
    /// `docker run IMAGE ARGS…` keeps it.
    var entrypoint: [String] = []
    var args: [String] = []
    /// `KEY=VALUE` entries.
    var env: [String] = []
    var workdir = "/"
    /// `name`, `uid`, `uid:gid`, `name:group`; empty means root.
    var user = ""
    var hostname = "oci2disk"
    /// The image's init for system mode.
    var initPath = "/sbin/init"
    /// Lower the kernel's console log level so kernel messages stay out of the command's output.
    var consoleQuiet = false
    /// Grow the root partition and filesystem to the disk's end before using them.
    var growRoot = false

    init() {}

    init(parsing text: String) throws(InitError) {
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = rawLine
            if line.last == "\r" {
                line = line.dropLast()
            }
            if line.isEmpty || line.first == "#" {
                continue
            }
            let key: Substring
            let encoded: Substring
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
                throw .badConfigLine(line: lineNumber, reason: "\(key): \(error)")
            }
            try apply(key: String(key), value: value, line: lineNumber)
        }
        guard rootUUID != nil else {
            throw .badConfig("missing root-uuid")
        }
    }

    private mutating func apply(key: String, value: String, line: Int) throws(InitError) {
        switch key {
        case "mode":
            guard let parsed = Mode(rawValue: value) else {
                throw .badConfigLine(line: line, reason: "mode must be app or system, not \"\(value)\"")
            }
            mode = parsed
        case "root-uuid":
            guard let uuid = UUID16(parsing: value) else {
                throw .badConfigLine(line: line, reason: "root-uuid \"\(value)\" is not a UUID")
            }
            rootUUID = uuid
        case "root-fstype":
            guard !value.isEmpty else {
                throw .badConfigLine(line: line, reason: "root-fstype is empty")
            }
            rootFSType = value
        case "root-options":
            rootOptions = value
        case "module":
            guard value.hasPrefix("/") else {
                throw .badConfigLine(line: line, reason: "module path \"\(value)\" is not absolute")
            }
            modules.append(value)
        case "entrypoint":
            entrypoint.append(value)
        case "arg":
            args.append(value)
        case "env":
            guard let equals = value.firstIndex(of: "="), equals != value.startIndex else {
                throw .badConfigLine(line: line, reason: "env \"\(value)\" is not KEY=VALUE")
            }
            env.append(value)
        case "workdir":
            workdir = value.isEmpty ? "/" : value
        case "user":
            user = value
        case "hostname":
            hostname = value.isEmpty ? "oci2disk" : value
        case "init":
            guard value.hasPrefix("/") else {
                throw .badConfigLine(line: line, reason: "init \"\(value)\" is not an absolute path")
            }
            initPath = value
        case "console-quiet":
            consoleQuiet = value == "1" || value == "true" || value == "yes"
        case "grow-root":
            growRoot = value == "1" || value == "true" || value == "yes"
        default:
            break  // Unknown keys are ignored: a newer builder may know more than this init.
        }
    }
}
