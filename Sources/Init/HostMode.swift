import GuestContract
/// Run outside a VM (not as PID 1), the init only explains a config: it prints the plan it would
/// follow, so the initramfs builder and tests can check configs without booting.
///
///     oci2disk-init --print-plan CONFIG ["KERNEL COMMAND LINE" [IMAGE-ROOT]]
///
/// IMAGE-ROOT is a directory holding the image's /etc/passwd and /etc/group for `user`.
enum HostMode {
    static let usage = """
        oci2disk-init is the guest init (PID 1) of oci2disk; started otherwise it only prints its plan:
          oci2disk-init --print-plan CONFIG ["KERNEL COMMAND LINE" [IMAGE-ROOT]]
        """

    static func run(_ arguments: [String]) -> Int32 {
        guard (3...5).contains(arguments.count), arguments[1] == "--print-plan" else {
            Console.write(usage + "\n")
            return 2
        }
        do {
            let config = try InitConfig.read(arguments[2])
            let commandLine = KernelCommandLine(arguments.count > 3 ? arguments[3] : "")
            for line in try plan(config: config, commandLine: commandLine, imageRoot: arguments.count > 4 ? arguments[4] : nil) {
                print(line)
            }
            return 0
        } catch {
            Console.error("\(error)")
            return 1
        }
    }

    /// One `key value` line per decision; strings quoted Swift-style.
    static func plan(config: InitConfig, commandLine: KernelCommandLine, imageRoot: String?) throws(InitError) -> [String] {
        var lines = [
            "mode \(config.mode.rawValue)",
            "root-uuid \(config.rootUUID?.description ?? "-")",
            "root-fstype \(config.rootFSType)",
            "root-options \(config.rootOptions.debugDescription)",
            "grow-root \(config.growRoot)"
        ]
        lines += config.modules.map { "module \($0)" }
        lines.append("hostname \(config.hostname.debugDescription)")
        switch config.mode {
        case .system:
            lines.append("init \(config.systemInit)")
            lines.append("fstab \(config.rootUUID.map { SystemMode.fstab(uuid: $0, config: config) }.debugDescription)")
        case .app:
            let users = try imageRoot.map { (root) throws(InitError) in try UserDatabase.read(root: root) } ?? UserDatabase(passwd: "", group: "")
            let plan = try CommandPlan(config: config, commandLine: commandLine, users: users)
            lines += plan.arguments.map { "arg \($0.debugDescription)" }
            lines += plan.environment.map { "env \($0.debugDescription)" }
            lines.append("workdir \(plan.workdir.debugDescription)")
            lines.append("uid \(plan.identity.uid)")
            lines.append("gid \(plan.identity.gid)")
            lines.append("groups \(plan.identity.additionalGids.map(String.init).joined(separator: ","))")
            let network = try NetworkConfig(commandLine: commandLine)
            if let eth0 = network.eth0 {
                lines.append("eth0 \(eth0.address)/\(eth0.prefixLength)\(eth0.gateway.map { " via \($0)" } ?? "")")
            } else {
                lines.append("eth0 off")
            }
            lines.append("dns \(network.nameservers.map(\.description).joined(separator: ","))")
        }
        return lines
    }
}
