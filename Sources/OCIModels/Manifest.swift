// Source: https://github.com/opencontainers/image-spec/blob/main/specs-go/v1/manifest.go

/// An image manifest (OCI or Docker schema 2).
public struct Manifest: Codable, Sendable, Equatable {
    public var schemaVersion: Int
    public var mediaType: String?
    /// The image configuration blob.
    public var config: Descriptor
    /// Layers, lowest first.
    public var layers: [Descriptor]
    public var annotations: [String: String]?

    public init(
        schemaVersion: Int = 2, mediaType: String? = MediaTypes.ociManifest, config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil
    ) {
        self.schemaVersion = schemaVersion
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }
}
