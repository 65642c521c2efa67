import Archive
import Foundation
import OCIModels

/// A registry repository presented as an OCI image layout, so `ImageResolver.resolveLayout`
/// does platform choice, nested indexes and every digest check as for a local layout.
///
/// - `index.json` is made up: one descriptor for the reference's manifest or index. A tag is
///   looked up with one request on every run (its digest is computed from the bytes, and must
///   agree with `Docker-Content-Digest`); a digest is taken from the cache, else fetched and
///   checked against it.
/// - `blobs/ALG/HEX` comes from the blob cache, else from the registry into the cache, checked
///   (size and digest) while it streams. Whether a digest names a manifest (a different URL)
///   is learnt from the indexes read through the store; sizes from every document read.
public final class RegistryStore: BlobStore, @unchecked Sendable {
    public let reference: RegistryReference
    private let client: RegistryClient
    private let cache: BlobCache
    private let lock = NSLock()
    private var manifests: Set<Digest> = []
    private var sizes: [Digest: Int64] = [:]

    public init(reference: RegistryReference, options: RegistryOptions) throws {
        self.reference = reference
        let credentials = try options.credentials ?? RegistryAuthFile.credentials(for: reference.host, environment: options.environment)
        client = RegistryClient(reference: reference, credentials: credentials, tlsVerify: options.tlsVerify)
        cache = BlobCache(directory: options.resolvedCacheDirectory)
    }

    public func open(_ path: String) throws -> any ByteSource {
        if path == "index.json" { return MemorySource(try rootIndex()) }
        let parts = path.split(separator: "/")
        guard parts.count == 3, parts[0] == "blobs", let digest = try? Digest(parsing: "\(parts[1]):\(parts[2])") else {
            throw SourceError.missingBlob(path)
        }
        let isManifest = lock.withLock { manifests.contains(digest) }
        if isManifest { return MemorySource(try manifest(digest)) }
        if let cached = try cache.open(digest) { return cached }
        let size = lock.withLock { sizes[digest] }
        let what = "blob \(digest) from \(reference.host)/\(reference.repository)"
        try cache.store(digest, size: size, what: what) { pending in try client.blob(digest, into: pending) }
        guard let stored = try cache.open(digest) else { throw SourceError.missingBlob(path) }
        return stored
    }

    public func topLevelNames() throws -> Set<String> { ["index.json", "oci-layout"] }

    /// `{"manifests": [the reference's manifest or index]}`.
    private func rootIndex() throws -> [UInt8] {
        let bytes: [UInt8]
        let digest: Digest
        switch reference.target {
        case .digest(let wanted):
            digest = wanted
            lock.withLock { _ = manifests.insert(digest) }
            bytes = try manifest(digest)
        case .tag:
            let response = try client.manifest(reference.target)
            bytes = response.bytes
            var hasher = ContentHasher(.sha256)
            bytes.withUnsafeBytes { hasher.update($0) }
            digest = hasher.finalize()
            if let header = response.digest.flatMap({ try? Digest(parsing: $0) }), header.algorithm == .sha256, header != digest {
                throw SourceError.digestMismatch(what: "manifest \(reference)", expected: header.description, actual: digest.description)
            }
            try cache.store(digest, bytes: bytes, what: "manifest \(reference)")
            lock.withLock { _ = manifests.insert(digest) }
            learn(from: bytes)
        }
        let shape = try? JSONDecoder().decode(DocumentShape.self, from: Data(bytes))
        struct Root: Encodable {
            struct Entry: Encodable {
                let mediaType: String
                let digest: String
                let size: Int
            }
            let schemaVersion = 2
            let mediaType = MediaTypes.ociIndex
            let manifests: [Entry]
        }
        let entry = Root.Entry(mediaType: shape?.kind ?? MediaTypes.ociManifest, digest: digest.description, size: bytes.count)
        return Array(try JSONEncoder().encode(Root(manifests: [entry])))
    }

    /// A manifest or index by digest: from the cache, else fetched, checked and cached.
    private func manifest(_ digest: Digest) throws -> [UInt8] {
        let what = "manifest \(reference.host)/\(reference.repository)@\(digest)"
        let bytes: [UInt8]
        if let cached = try cache.open(digest) {
            bytes = try cached.readAll(limit: JSONDocument.limit)
        } else {
            bytes = try client.manifest(.digest(digest)).bytes
            try cache.store(digest, bytes: bytes, what: what)
        }
        learn(from: bytes)
        return bytes
    }

    /// Notes what a document's descriptors point at: an index's entries are manifests; every
    /// descriptor gives the size its blob must have.
    private func learn(from bytes: [UInt8]) {
        guard let shape = try? JSONDecoder().decode(DocumentShape.self, from: Data(bytes)) else { return }
        lock.withLock {
            for child in shape.manifests ?? [] {
                guard let digest = try? Digest(parsing: child.digest) else { continue }
                manifests.insert(digest)
                if let size = child.size { sizes[digest] = size }
            }
            for child in [shape.config].compactMap({ $0 }) + (shape.layers ?? []) {
                guard let digest = try? Digest(parsing: child.digest), let size = child.size else { continue }
                sizes[digest] = size
            }
        }
    }
}

/// Just enough of a manifest or index to know its kind and what it points at.
private struct DocumentShape: Decodable {
    struct Child: Decodable {
        let digest: String
        let size: Int64?
    }
    let schemaVersion: Int?
    let mediaType: String?
    let manifests: [Child]?
    let config: Child?
    let layers: [Child]?

    /// The media type, from the document or, when it has none, from its shape.
    var kind: String {
        if let mediaType { return mediaType }
        if schemaVersion == 1 { return "application/vnd.docker.distribution.manifest.v1+json" }
        return manifests != nil ? MediaTypes.ociIndex : MediaTypes.ociManifest
    }
}
