import GuestContract
import OCIModels

/// The image config → config.json, following image-spec conversion.md on top of `DefaultSpec`.
public enum SpecGenerator {
    public static func generate(
        config: ImageConfig, users: UserDatabase, overrides: RunOverrides = RunOverrides(),
        rootless: DefaultSpec.RootlessIdentity? = nil
    ) throws -> RuntimeSpec {
        var spec = DefaultSpec.make(rootless: rootless)
        var process = spec.process!
        let run = config.config

        let applied = overrides.applied(to: run)
        process.args = applied.arguments

        let identity: UserDatabase.Identity
        do { identity = try users.resolve(applied.user ?? "") } catch { throw BundleError.unknownUser(error.description) }
        process.user = RuntimeSpec.User(
            uid: identity.uid, gid: identity.gid,
            // A rootless user namespace maps one id and forbids setgroups.
            additionalGids: identity.additionalGids.isEmpty || rootless != nil ? nil : identity.additionalGids)

        var environment = applied.environment
        // Additions only for names the image does not set (conversion.md, verbatim fields note 1).
        if !environment.contains(where: { RunOverrides.name(of: $0) == "PATH" }) { environment.insert("PATH=\(GuestDefaults.path)", at: 0) }
        if !environment.contains(where: { RunOverrides.name(of: $0) == "HOME" }) { environment.append("HOME=\(identity.home)") }
        process.env = environment

        let workingDirectory = applied.workingDirectory ?? ""
        process.cwd = workingDirectory.isEmpty ? "/" : workingDirectory.hasPrefix("/") ? workingDirectory : "/" + workingDirectory
        spec.process = process
        if let hostname = overrides.hostname { spec.hostname = hostname }
        let annotations = Self.annotations(config)
        spec.annotations = annotations.isEmpty ? nil : annotations
        return spec
    }

    /// Implicit annotations for the fields the image sets, then its labels, which win
    /// (conversion.md, "Annotation Fields").
    static func annotations(_ config: ImageConfig) -> [String: String] {
        var result: [String: String] = [:]
        let prefix = "org.opencontainers.image."
        result[prefix + "os"] = config.os
        result[prefix + "architecture"] = config.architecture
        result[prefix + "variant"] = config.variant
        result[prefix + "author"] = config.author
        result[prefix + "created"] = config.created
        result[prefix + "stopSignal"] = config.config?.stopSignal
        if let ports = config.config?.exposedPorts, !ports.isEmpty {
            result[prefix + "exposedPorts"] = ports.keys.sorted().joined(separator: ",")
        }
        for (key, value) in config.config?.labels ?? [:] { result[key] = value }
        return result
    }

}
