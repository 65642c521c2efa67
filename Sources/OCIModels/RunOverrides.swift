/// Run settings given on the command line over an image's own, applied as `docker run` does:
/// a new Entrypoint drops the image's Cmd unless a Cmd is given too; `--env NAME=…` replaces
/// the image's NAME. One rule for every sink (the guest init, runtime bundles).
public struct RunOverrides: Sendable, Equatable {
    public var entrypoint: [String]?
    public var cmd: [String]?
    /// `NAME=value`, replacing the image's NAME.
    public var environment: [String] = []
    public var workingDirectory: String?
    public var user: String?
    public var hostname: String?

    public init() {}

    /// What to run once these overrides are applied to the image's settings.
    public struct Applied: Sendable, Equatable {
        public var entrypoint: [String]
        public var cmd: [String]
        public var environment: [String]
        public var workingDirectory: String?
        public var user: String?
        public var arguments: [String] { entrypoint + cmd }
    }

    public func applied(to image: RunConfig?) -> Applied {
        var environment = image?.env ?? []
        for variable in self.environment {
            let name = Self.name(of: variable)
            environment.removeAll { Self.name(of: $0) == name }
            environment.append(variable)
        }
        return Applied(
            entrypoint: entrypoint ?? image?.entrypoint ?? [],
            cmd: cmd ?? (entrypoint == nil ? image?.cmd ?? [] : []),
            environment: environment,
            workingDirectory: workingDirectory ?? image?.workingDir.flatMap { $0.isEmpty ? nil : $0 },
            user: user ?? image?.user.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// `NAME` of `NAME=value` (the whole text when it has no `=`).
    public static func name(of variable: String) -> Substring {
        variable.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? Substring(variable)
    }
}
