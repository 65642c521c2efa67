// Source: https://github.com/opencontainers/image-spec/blob/main/specs-go/v1/index.go (Platform)

/// The platform an image runs on.
public struct Platform: Codable, Sendable, Hashable, CustomStringConvertible {
    /// Operating system, e.g. `linux`.
    public var os: String
    /// CPU architecture, e.g. `amd64`.
    public var architecture: String
    /// CPU variant, e.g. `v8` for arm64.
    public var variant: String?
    /// Operating system version (Windows only in practice).
    public var osVersion: String?
    /// Required OS features.
    public var osFeatures: [String]?

    enum CodingKeys: String, CodingKey {
        case os, architecture, variant
        case osVersion = "os.version"
        case osFeatures = "os.features"
    }

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// Parses `os/arch[/variant]`.
    public init(parsing text: String) throws(OCIError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else { throw .invalidPlatform(text) }
        self.init(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil)
    }

    public static let linuxAMD64 = Platform(os: "linux", architecture: "amd64")

    /// Attestation manifests (BuildKit) carry `unknown/unknown`; they are never images to run.
    public var isUnknown: Bool { os == "unknown" || architecture == "unknown" }

    /// Whether an image for `self` satisfies a request for `wanted`. A missing variant on the
    /// request matches any variant; arm64's implied variant is v8.
    public func satisfies(_ wanted: Platform) -> Bool {
        guard os == wanted.os, architecture == wanted.architecture else { return false }
        guard let wantedVariant = wanted.variant else { return true }
        let implied = architecture == "arm64" ? "v8" : nil
        return (variant ?? implied) == wantedVariant
    }

    public var description: String {
        [os, architecture, variant].compactMap { $0 }.joined(separator: "/")
    }
}
