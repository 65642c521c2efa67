import OCIModels

/// `docker save` output: `manifest.json` lists each image's config and layer tars by path.
/// Legacy archives name layers `<id>/layer.tar`; Docker 25+ puts them under `blobs/sha256/`.
public enum DockerArchive {
    public struct Entry: Decodable {
        let config: String
        let repoTags: [String]?
        let layers: [String]

        enum CodingKeys: String, CodingKey {
            case config = "Config", repoTags = "RepoTags", layers = "Layers"
        }
    }

    static func resolve(store: any BlobStore, ref: String?, platform: Platform) throws -> ResolvedImage {
        let entries = try JSONDocument.read([Entry].self, from: store, path: "manifest.json", what: "manifest.json")
        let tags = entries.flatMap { $0.repoTags ?? [] }.sorted()
        let entry: Entry
        if let ref {
            guard let match = entries.first(where: { ($0.repoTags ?? []).contains { sameTag($0, ref) } }) else {
                throw SourceError.refNotFound(ref: ref, available: tags)
            }
            entry = match
        } else {
            guard entries.count == 1, let only = entries.first else {
                if entries.isEmpty { throw SourceError.emptyArchive("manifest.json") }
                throw SourceError.ambiguousRef(available: tags)
            }
            entry = only
        }
        // The config's file name is its sha256 (`<hex>.json` or `blobs/sha256/<hex>`).
        let configDigest = try digest(fromPath: entry.config, what: "config \(entry.config)")
        let config = try JSONDocument.read(
            ImageConfig.self, from: store, path: entry.config, what: "config \(entry.config)",
            digest: configDigest)
        guard config.platform.satisfies(platform) else {
            throw SourceError.platformNotFound(wanted: platform.description, available: [config.platform.description])
        }
        guard config.rootfs.diffIDs.count == entry.layers.count else {
            throw SourceError.layerCountMismatch(layers: entry.layers.count, diffIDs: config.rootfs.diffIDs.count)
        }
        let layers = zip(entry.layers, config.rootfs.diffIDs).enumerated().map { number, pair in
            let (path, diffID) = pair
            let blobDigest = try? digest(fromPath: path, what: path)
            return LayerBlob(
                path: path, name: "layer \(number + 1) (\(path))", digest: blobDigest, size: nil,
                compression: nil, diffID: diffID)
        }
        return ResolvedImage(identity: configDigest, configDigest: configDigest, config: config, layers: layers, store: store)
    }

    /// `blobs/sha256/<hex>` or `<hex>.json` → `sha256:<hex>`.
    static func digest(fromPath path: String, what: String) throws -> Digest {
        var name = Substring(path.split(separator: "/").last ?? "")
        if name.hasSuffix(".json") { name = name.dropLast(5) }
        let parts = path.split(separator: "/")
        let algorithm = parts.count >= 2 && parts[parts.count - 2] == "sha512" ? "sha512" : "sha256"
        do {
            return try Digest(parsing: "\(algorithm):\(name)")
        } catch {
            throw SourceError.blobNameNotADigest(what)
        }
    }

    /// `busybox:latest` matches `docker.io/library/busybox:latest` as docker does.
    static func sameTag(_ listed: String, _ wanted: String) -> Bool {
        func short(_ tag: String) -> String {
            for prefix in ["docker.io/library/", "docker.io/", "index.docker.io/library/"] where tag.hasPrefix(prefix) {
                return String(tag.dropFirst(prefix.count))
            }
            return tag
        }
        return short(listed) == short(wanted)
    }
}
