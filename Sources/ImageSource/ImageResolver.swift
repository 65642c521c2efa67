import Foundation
import OCIModels

/// Turns a source reference into one verified image for one platform.
public enum ImageResolver {
    /// Opens the source, picks the image (by ref, then by platform) and reads its config.
    /// `registry` says how to reach a registry (`docker://` sources only).
    public static func resolve(
        _ reference: SourceReference, platform: Platform,
        registry: RegistryOptions = RegistryOptions()
    ) throws -> ResolvedImage {
        switch reference {
        case .registry(let host, let repository, let target):
            let name = RegistryReference(host: host, repository: repository, target: target)
            return try resolveLayout(store: try RegistryStore(reference: name, options: registry), ref: nil, platform: platform)
        case .ociLayout(let path, let ref):
            return try resolveLayout(store: try directoryStore(path), ref: ref, platform: platform)
        case .ociArchive(let path, let ref):
            return try resolveLayout(store: try archive(path), ref: ref, platform: platform)
        case .dockerArchive(let path, let ref):
            return try DockerArchive.resolve(store: try archive(path), ref: ref, platform: platform)
        case .dockerDaemon(let name):
            let path = try DockerDaemon.archive(name, environment: registry.environment)
            let store = try TarStore(archivePath: path, displayName: "docker-daemon:\(name)")
            return try DockerArchive.resolve(store: store, ref: nil, platform: platform)
        case .containersStorage(let text):
            let (store, name) = try ContainersStorage.parse(text)
            let path = try ContainersStorage.archive(name, store: store, environment: registry.environment)
            return try DockerArchive.resolve(store: try TarStore(archivePath: path, displayName: "containers-storage:\(name)"), ref: nil, platform: platform)
        case .path(StandardInput.name):
            return try resolveArchive(try archive(StandardInput.name), platform: platform, name: StandardInput.displayName)
        case .path(let path):
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw SourceError.notFound(path) }
            if isDirectory.boolValue {
                return try resolveLayout(store: try directoryStore(path), ref: nil, platform: platform)
            }
            return try resolveArchive(try TarStore(archivePath: path), platform: platform, name: path)
        }
    }

    /// An archive of either kind, told by its top-level names.
    private static func resolveArchive(_ store: TarStore, platform: Platform, name: String) throws -> ResolvedImage {
        let names = try store.topLevelNames()
        if names.contains("index.json") { return try resolveLayout(store: store, ref: nil, platform: platform) }
        if names.contains("manifest.json") { return try DockerArchive.resolve(store: store, ref: nil, platform: platform) }
        throw SourceError.notAnImage(name)
    }

    /// The archive at `path`, or `-`: the copy of standard input.
    private static func archive(_ path: String) throws -> TarStore {
        guard path == StandardInput.name else { return try TarStore(archivePath: path) }
        return try TarStore(archivePath: try StandardInput.archivePath(), displayName: StandardInput.displayName)
    }

    private static func directoryStore(_ path: String) throws -> DirectoryStore {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw SourceError.notFound(path) }
        guard isDirectory.boolValue, FileManager.default.fileExists(atPath: path + "/index.json") else {
            throw SourceError.notAnImage(path)
        }
        return DirectoryStore(root: path)
    }

    /// OCI image layout: index.json → (nested indexes) → manifest → config.
    static func resolveLayout(store: any BlobStore, ref: String?, platform: Platform) throws -> ResolvedImage {
        let index = try JSONDocument.read(Index.self, from: store, path: "index.json", what: "index.json")
        var candidates = index.manifests
        let refs = Array(Set(candidates.compactMap(\.refName))).sorted()
        if let ref {
            candidates = candidates.filter { $0.refName == ref }
            guard !candidates.isEmpty else { throw SourceError.refNotFound(ref: ref, available: refs) }
        } else if refs.count > 1 {
            throw SourceError.ambiguousRef(available: refs)
        }
        let manifests = try flatten(candidates, store: store, depth: 0)
        let (descriptor, manifest, config, configDigest) = try choose(manifests, store: store, platform: platform)
        return try makeImage(identity: descriptor.digest, manifest: manifest, config: config, configDigest: configDigest, store: store)
    }

    /// Walks nested indexes down to image manifests, leaving out attestations.
    private static func flatten(_ descriptors: [Descriptor], store: any BlobStore, depth: Int) throws -> [Descriptor] {
        guard depth < 8 else { throw SourceError.indexesTooDeep(limit: 8) }
        var result: [Descriptor] = []
        for descriptor in descriptors where !descriptor.isAttestation {
            if MediaTypes.indexTypes.contains(descriptor.mediaType) {
                let nested = try JSONDocument.read(
                    Index.self, from: store, path: descriptor.digest.layoutPath,
                    what: "index \(descriptor.digest)", digest: descriptor.digest, size: descriptor.size)
                result += try flatten(nested.manifests, store: store, depth: depth + 1)
            } else if MediaTypes.manifestTypes.contains(descriptor.mediaType) {
                result.append(descriptor)
            } else if descriptor.mediaType == "application/vnd.docker.distribution.manifest.v1+json"
                || descriptor.mediaType == "application/vnd.docker.distribution.manifest.v1+prettyjws"
            {
                throw SourceError.unsupportedMediaType(what: "manifest \(descriptor.digest) (Docker schema 1)", mediaType: descriptor.mediaType)
            } else {
                throw SourceError.unsupportedMediaType(what: "manifest \(descriptor.digest)", mediaType: descriptor.mediaType)
            }
        }
        return result
    }

    /// The first manifest whose platform (from the index, else from its config) satisfies the request.
    private static func choose(
        _ descriptors: [Descriptor], store: any BlobStore, platform: Platform
    ) throws
        -> (Descriptor, Manifest, ImageConfig, Digest)
    {
        var seen: [String] = []
        for descriptor in descriptors {
            if let listed = descriptor.platform, !listed.satisfies(platform) {
                seen.append(listed.description)
                continue
            }
            let manifest = try JSONDocument.read(
                Manifest.self, from: store, path: descriptor.digest.layoutPath,
                what: "manifest \(descriptor.digest)", digest: descriptor.digest, size: descriptor.size)
            if let type = manifest.mediaType, !MediaTypes.manifestTypes.contains(type) {
                throw SourceError.unsupportedMediaType(what: "manifest \(descriptor.digest)", mediaType: type)
            }
            guard MediaTypes.configTypes.contains(manifest.config.mediaType) else {
                throw SourceError.unsupportedMediaType(what: "config \(manifest.config.digest)", mediaType: manifest.config.mediaType)
            }
            let config = try JSONDocument.read(
                ImageConfig.self, from: store, path: manifest.config.digest.layoutPath,
                what: "config \(manifest.config.digest)", digest: manifest.config.digest, size: manifest.config.size)
            guard config.platform.satisfies(platform) else {
                seen.append(config.platform.description)
                continue
            }
            return (descriptor, manifest, config, manifest.config.digest)
        }
        throw SourceError.platformNotFound(wanted: platform.description, available: Array(Set(seen)).sorted())
    }

    private static func makeImage(
        identity: Digest, manifest: Manifest, config: ImageConfig, configDigest: Digest,
        store: any BlobStore
    ) throws -> ResolvedImage {
        let diffIDs = config.rootfs.diffIDs
        guard diffIDs.count == manifest.layers.count else {
            throw SourceError.layerCountMismatch(layers: manifest.layers.count, diffIDs: diffIDs.count)
        }
        var layers: [LayerBlob] = []
        for (number, (layer, diffID)) in zip(manifest.layers, diffIDs).enumerated() {
            let name = "layer \(number + 1) (\(layer.digest))"
            let compression: LayerCompression
            do {
                compression = try LayerCompression(mediaType: layer.mediaType)
            } catch {
                throw SourceError.unsupportedMediaType(what: name, mediaType: layer.mediaType)
            }
            layers.append(
                LayerBlob(
                    path: layer.digest.layoutPath, name: name, digest: layer.digest, size: layer.size,
                    compression: compression, diffID: diffID))
        }
        return ResolvedImage(identity: identity, configDigest: configDigest, config: config, layers: layers, store: store)
    }
}
