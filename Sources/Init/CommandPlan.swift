import GuestContract

/// The main command of app mode, fully resolved: arguments, environment, identity, directory.
struct CommandPlan: Equatable {
    var arguments: [String]
    var environment: [String]
    var workdir: String
    var identity: UserDatabase.Identity

    /// Arguments: the config's `entrypoint` lines, then `oci2disk.args=` if present, else the
    /// config's `arg` lines (the Cmd). Environment: the
    /// config's `env` lines, then PATH, HOME (the user's) and TERM=linux where absent.
    init(config: InitConfig, commandLine: KernelCommandLine, users: UserDatabase) throws(InitError) {
        arguments = config.entrypoint + (try commandLine.commandArguments() ?? config.cmd)
        guard !arguments.isEmpty else {
            throw .noCommand
        }
        do { identity = try users.resolve(config.user ?? "") } catch { throw .unknownUser(error.description) }
        let directory = config.workingDirectory ?? "/"
        workdir = directory.hasPrefix("/") ? directory : "/" + directory
        environment = config.environment
        let defaults = [("PATH", GuestDefaults.path), ("HOME", identity.home), ("TERM", "linux")]
        for (key, value) in defaults where !environment.contains(where: { $0.hasPrefix(key + "=") }) {
            environment.append("\(key)=\(value)")
        }
    }

    /// PATH as the command's environment sets it (used to find a bare command name).
    var searchPath: String {
        let entry = environment.last { $0.hasPrefix("PATH=") }
        return entry.map { String($0.dropFirst(5)) } ?? ""
    }
}
