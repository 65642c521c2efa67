/// The main command of app mode, fully resolved: arguments, environment, identity, directory.
struct CommandPlan: Equatable {
    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    var arguments: [String]
    var environment: [String]
    var workdir: String
    var identity: UserDatabase.Identity

    /// Arguments: the config's `entrypoint` lines, then `oci2disk.args=` if present, else the
    /// config's `arg` lines (the Cmd). Environment: the
    /// config's `env` lines, then PATH, HOME (the user's) and TERM=linux where absent.
    init(config: InitConfig, commandLine: KernelCommandLine, users: UserDatabase) throws(InitError) {
        arguments = config.entrypoint + (try commandLine.commandArguments() ?? config.args)
        guard !arguments.isEmpty else {
            throw .noCommand
        }
        identity = try users.resolve(config.user)
        workdir = config.workdir.hasPrefix("/") ? config.workdir : "/" + config.workdir
        environment = config.env
        let defaults = [("PATH", CommandPlan.defaultPath), ("HOME", identity.home), ("TERM", "linux")]
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
