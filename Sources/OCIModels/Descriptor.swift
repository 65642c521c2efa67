// Source: https://github.com/opencontainers/image-spec/blob/main/specs-go/v1/descriptor.go

/// Points at a blob by media type, digest and size.
public struct Descriptor: Codable, Sendable, Equatable {
    /// Media type of the referenced content.
    public var mediaType: String
    /// Digest of the referenced content.
    public let digest: Digest
    /// Size in bytes of the referenced content.
    public let size: Int64
    /// Alternative locations (unused here).
    public var urls: [String]?
    /// Arbitrary metadata, e.g. `org.opencontainers.image.ref.name`.
    public var annotations: [String: String]?
    /// The platform of the referenced manifest, in an index.
    public var platform: Platform?

    public init(mediaType: String, digest: Digest, size: Int64, annotations: [String: String]? = nil, platform: Platform? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
        self.platform = platform
    }

    public static let refNameAnnotation = "org.opencontainers.image.ref.name"

    /// The tag a layout's index gives this descriptor, if any.
    public var refName: String? { annotations?[Self.refNameAnnotation] }

    /// BuildKit marks attestation manifests with this annotation as well as `unknown/unknown`.
    public var isAttestation: Bool {
        annotations?["vnd.docker.reference.type"] == "attestation-manifest" || (platform?.isUnknown ?? false)
    }
}
