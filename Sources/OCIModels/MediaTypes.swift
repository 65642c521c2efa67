// Source: https://github.com/opencontainers/image-spec/blob/main/specs-go/v1/mediatype.go
// and Docker's image manifest v2 schema 2.

/// Media types the converter knows, OCI and Docker schema 2.
public enum MediaTypes {
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let ociLayerNondistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar"
    public static let ociLayerNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    public static let ociLayerNondistributableZstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"

    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerLayer = "application/vnd.docker.image.rootfs.diff.tar"
    public static let dockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

    public static let indexTypes: Set<String> = [ociIndex, dockerManifestList]
    public static let manifestTypes: Set<String> = [ociManifest, dockerManifest]
    public static let configTypes: Set<String> = [ociConfig, dockerConfig]
}

/// How a layer blob is compressed; decided from its media type alone.
public enum LayerCompression: String, Sendable, Equatable {
    case none, gzip, zstd

    /// The one place media types map to decompressors; anything unknown is rejected by name.
    public init(mediaType: String) throws(LayerMediaTypeError) {
        switch mediaType {
        case MediaTypes.ociLayer, MediaTypes.ociLayerNondistributable, MediaTypes.dockerLayer:
            self = .none
        case MediaTypes.ociLayerGzip, MediaTypes.ociLayerNondistributableGzip, MediaTypes.dockerLayerGzip,
            MediaTypes.dockerForeignLayerGzip:
            self = .gzip
        case MediaTypes.ociLayerZstd, MediaTypes.ociLayerNondistributableZstd:
            self = .zstd
        default:
            throw LayerMediaTypeError(mediaType: mediaType)
        }
    }
}

public struct LayerMediaTypeError: Error, Equatable, Sendable, CustomStringConvertible {
    public let mediaType: String
    public init(mediaType: String) { self.mediaType = mediaType }
    public var description: String { "unsupported layer media type \"\(mediaType)\"" }
}
