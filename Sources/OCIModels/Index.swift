// Source: https://github.com/opencontainers/image-spec/blob/main/specs-go/v1/index.go

/// An image index (OCI) or manifest list (Docker).
public struct Index: Codable, Sendable, Equatable {
    public var schemaVersion: Int
    /// Absent in many layouts' index.json, so optional.
    public var mediaType: String?
    /// The manifests (or nested indexes) this index lists.
    public var manifests: [Descriptor]
    public var annotations: [String: String]?

    public init(schemaVersion: Int = 2, mediaType: String? = MediaTypes.ociIndex, manifests: [Descriptor], annotations: [String: String]? = nil) {
        self.schemaVersion = schemaVersion
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }
}
