// Source: https://github.com/opencontainers/image-spec/blob/main/specs-go/v1/config.go

/// The image configuration: platform, run settings and the layers' uncompressed digests.
public struct ImageConfig: Codable, Sendable, Equatable {
    /// RFC 3339 creation time.
    public var created: String?
    public var author: String?
    public var architecture: String
    public var os: String
    public var variant: String?
    /// How to run the image.
    public var config: RunConfig?
    /// The layers' diff IDs.
    public var rootfs: RootFS
    public var history: [History]?

    public init(architecture: String, os: String, variant: String? = nil, created: String? = nil, config: RunConfig? = nil, rootfs: RootFS) {
        self.architecture = architecture
        self.os = os
        self.variant = variant
        self.created = created
        self.config = config
        self.rootfs = rootfs
    }

    public var platform: Platform { Platform(os: os, architecture: architecture, variant: variant) }
}

/// Run settings (`config` in the image configuration). Go names are capitalised.
public struct RunConfig: Codable, Sendable, Equatable {
    public var user: String?
    public var exposedPorts: [String: EmptyObject]?
    public var env: [String]?
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var volumes: [String: EmptyObject]?
    public var workingDir: String?
    public var labels: [String: String]?
    public var stopSignal: String?

    enum CodingKeys: String, CodingKey {
        case user = "User", exposedPorts = "ExposedPorts", env = "Env", entrypoint = "Entrypoint", cmd = "Cmd"
        case volumes = "Volumes", workingDir = "WorkingDir", labels = "Labels", stopSignal = "StopSignal"
    }

    public init() {}
}

/// `{}` as used by ExposedPorts and Volumes.
public struct EmptyObject: Codable, Sendable, Equatable {
    public init() {}
}

/// The layers' uncompressed digests, lowest first.
public struct RootFS: Codable, Sendable, Equatable {
    public var type: String
    public var diffIDs: [Digest]

    enum CodingKeys: String, CodingKey {
        case type
        case diffIDs = "diff_ids"
    }

    public init(type: String = "layers", diffIDs: [Digest]) {
        self.type = type
        self.diffIDs = diffIDs
    }
}

public struct History: Codable, Sendable, Equatable {
    public var created: String?
    public var createdBy: String?
    public var comment: String?
    public var emptyLayer: Bool?

    enum CodingKeys: String, CodingKey {
        case created, comment
        case createdBy = "created_by"
        case emptyLayer = "empty_layer"
    }
}
