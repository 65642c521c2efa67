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
    case invalid(String)

    public var exitCode: Int32 {
        switch self {
        case .timedOut: 124
        case .initFailed: 125
        case .noStatus: 123
        case .qemu: 122
        case .interrupted(let signal): 128 + signal
        case .invalid: 1
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
        case .invalid(let reason): reason
        }
    }
}
