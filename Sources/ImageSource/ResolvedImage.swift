import OCIModels

/// One image, chosen and checked: its config and where each layer's bytes are.
public struct ResolvedImage: Sendable {
    /// Identity of the image (manifest digest; the config digest for legacy docker archives).
    /// Seeds the disk's UUIDs so the same image gives the same disk.
    public let identity: Digest
    public let configDigest: Digest
    public let config: ImageConfig
    public let layers: [LayerBlob]
    public let store: any BlobStore
}

/// A layer to read: where it is, what it must hash to before and after decompression.
public struct LayerBlob: Sendable, Equatable {
    /// Path inside the store.
    public let path: String
    /// Names the layer in messages, e.g. `layer 2 (sha256:ab12…)`.
    public let name: String
    /// Digest and size of the stored (compressed) blob, when known.
    public let digest: Digest?
    public let size: Int64?
    /// Compression from the media type; nil means recognise it by magic (docker save tars).
    public let compression: LayerCompression?
    /// Digest of the uncompressed tar, from the config's rootfs.diff_ids.
    public let diffID: Digest
}
