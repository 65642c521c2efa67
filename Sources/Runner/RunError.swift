import SystemBase

/// Why a run ended without the guest program's own exit status, each with the exit code
/// `oci2disk run` returns for it (documented in the README).
public enum RunError: Error, Equatable, Sendable, CustomStringConvertible {
    /// --timeout passed: 124, like timeout(1).
    case timedOut(seconds: Double)
    /// The guest init could not start the program's environment (no root, bad config): 125.
    case initFailed
    /// The guest stopped without reporting a status (kernel panic, crash): 123.
    case noStatus(lastLines: [String])
    /// QEMU could not start or failed: 122.
    case qemu(String)
    /// Ctrl-C or SIGTERM: 130 / 143.
    case interrupted(signal: Int32)
    /// A program `run` needs is not installed: which, for what, and the Debian package.
    case missingTool(tool: String, purpose: String, package: String)
    /// A program `run` ran failed: which, and its first line of errors.
    case toolFailed(tool: String, message: String)
    /// The disk's boot partition is ours but cannot be read.
    case unreadableBootPartition(disk: String, reason: String)
    /// Arguments after `--` need the direct boot, which needs an oci2disk boot partition.
    case notABootDisk(disk: String)
    /// passt, the guest's network, is missing or did not start.
    case network(String)
    /// A system call failed (the errno is in it).
    case system(SystemError)

    public var exitCode: Int32 {
        switch self {
        case .timedOut: 124
        case .initFailed: 125
        case .noStatus: 123
        case .qemu: 122
        case .interrupted(let signal): 128 + signal
        case .missingTool, .toolFailed, .unreadableBootPartition, .notABootDisk, .network, .system: 1
        }
    }

    public var description: String {
        switch self {
        case .timedOut(let seconds): "timed out after \(seconds) s; the VM was stopped"
        case .initFailed: "the guest init failed before the program started (see the messages above)"
        case .noStatus(let lines):
            "the guest stopped without an exit status (kernel panic?)" + (lines.isEmpty ? "" : "; last output: \(lines.joined(separator: " | "))")
        case .qemu(let reason): "qemu: \(reason)"
        case .interrupted(let signal): "interrupted by signal \(signal); the VM was stopped"
        case .missingTool(let tool, let purpose, let package): "\(tool) missing (\(purpose)): install Debian's \(package)"
        case .toolFailed(let tool, let message): "\(tool) failed: \(message)"
        case .unreadableBootPartition(let disk, let reason): "\(disk): cannot read the boot partition: \(reason)"
        case .notABootDisk(let disk): "\(disk): not an oci2disk boot disk: arguments after -- cannot be passed"
        case .network(let reason): reason
        case .system(let error): error.description
        }
    }
}
