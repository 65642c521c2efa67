import ArgumentParser
import Foundation
import OCIModels

/// The image's run settings a user can replace: shared by `convert` (baked into the disk)
/// and `bundle` (written into config.json).
struct RunSettingsArguments: ParsableArguments {
    @Option(help: ArgumentHelp("Replace the image's Cmd (a JSON array, or words split at spaces).", valueName: "command"))
    var cmd: String?

    @Option(help: ArgumentHelp("Replace the image's Entrypoint (a JSON array, or words split at spaces).", valueName: "command"))
    var entrypoint: String?

    @Option(help: ArgumentHelp("Set an environment variable for the command (repeatable).", valueName: "name=value"))
    var env: [String] = []

    @Option(help: ArgumentHelp("Working directory for the command.", valueName: "dir"))
    var workdir: String?

    @Option(help: ArgumentHelp("User to run the command as: name, uid, uid:gid or name:group.", valueName: "user"))
    var user: String?

    @Option(help: "Hostname of the guest or container (default: oci2disk).")
    var hostname: String?

    var isEmpty: Bool { cmd == nil && entrypoint == nil && env.isEmpty && workdir == nil && user == nil && hostname == nil }

    func validate() throws {
        for variable in env where !variable.contains("=") { throw ValidationError("--env takes name=value, got \"\(variable)\".") }
        for (name, value) in [("--cmd", cmd), ("--entrypoint", entrypoint)] {
            if let value, (try? Self.words(value)) == nil { throw ValidationError("\(name) must be a JSON array of strings or words.") }
        }
    }

    func overrides() throws -> RunOverrides {
        var overrides = RunOverrides()
        overrides.cmd = try cmd.map(Self.words)
        overrides.entrypoint = try entrypoint.map(Self.words)
        overrides.environment = env
        overrides.workingDirectory = workdir
        overrides.user = user
        overrides.hostname = hostname
        return overrides
    }

    /// `["sh", "-c", "echo hi"]` as JSON, or `sleep 10` split at spaces.
    static func words(_ text: String) throws -> [String] {
        if text.trimmingCharacters(in: .whitespaces).hasPrefix("[") {
            return try JSONDecoder().decode([String].self, from: Data(text.utf8))
        }
        return text.split(separator: " ").map(String.init)
    }
}
