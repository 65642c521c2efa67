import Archive
import Foundation
import ImageSource
import OCIModels
import Testing

/// An OCI layout written byte by byte in a temporary folder: one layer (an uncompressed tar
/// made by libarchive), a config, a manifest, the index. `tar` wraps it as an oci-archive.
struct LayoutFixture {
    let root: String
    var layer: [UInt8] = []
    var configBytes: [UInt8] = []
    var manifestDigest = ""

    init(platform: String = "amd64", tags: [String] = ["t"], corruptLayer: Bool = false, dropLayer: Bool = false) throws {
        root = NSTemporaryDirectory() + "oci2disk-resolver-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/blobs/sha256", withIntermediateDirectories: true)
        let tar = root + "/layer.tar"
        let writer = try ArchiveWriter(path: tar, format: .pax, compression: .none)
        try writer.directory("etc")
        try writer.file("etc/hostname", data: Array("fixture\n".utf8))
        try writer.finish()
        layer = [UInt8](try Data(contentsOf: URL(fileURLWithPath: tar)))
        try FileManager.default.removeItem(atPath: tar)
        let layerDigest = try put(layer, skip: dropLayer, damage: corruptLayer)
        configBytes = Array(
            """
            {"architecture":"\(platform)","os":"linux","config":{"Cmd":["/bin/sh"]},\
            "rootfs":{"type":"layers","diff_ids":["\(Self.digest(layer))"]}}
            """.utf8)
        let configDigest = try put(configBytes)
        let manifest = Array(
            """
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",\
            "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(configDigest)","size":\(configBytes.count)},\
            "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"\(layerDigest)","size":\(layer.count)}]}
            """.utf8)
        manifestDigest = try put(manifest)
        let entries = tags.map { tag in
            """
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(manifestDigest)","size":\(manifest.count),\
            "annotations":{"org.opencontainers.image.ref.name":"\(tag)"}}
            """
        }
        try Data("{\"schemaVersion\":2,\"manifests\":[\(entries.joined(separator: ","))]}".utf8).write(to: URL(fileURLWithPath: root + "/index.json"))
        try Data("{\"imageLayoutVersion\":\"1.0.0\"}".utf8).write(to: URL(fileURLWithPath: root + "/oci-layout"))
    }

    static func digest(_ bytes: [UInt8]) -> String {
        var hasher = ContentHasher(.sha256)
        bytes.withUnsafeBytes { hasher.update($0) }
        return hasher.finalize().description
    }

    /// Stores a blob under its digest; `damage` flips a byte after hashing.
    @discardableResult
    func put(_ bytes: [UInt8], skip: Bool = false, damage: Bool = false) throws -> String {
        let digest = Self.digest(bytes)
        guard !skip else { return digest }
        var stored = bytes
        if damage { stored[stored.count / 2] ^= 0xFF }
        try Data(stored).write(to: URL(fileURLWithPath: root + "/blobs/sha256/" + digest.dropFirst(7)))
        return digest
    }

    /// The layout as an oci-archive (a tar of the folder's contents).
    func archive() throws -> String {
        let path = root + ".tar"
        let writer = try ArchiveWriter(path: path, format: .pax, compression: .none)
        for name in ["oci-layout", "index.json"] { try writer.file(name, contentsOf: root + "/" + name) }
        try writer.directory("blobs")
        try writer.directory("blobs/sha256")
        for blob in try FileManager.default.contentsOfDirectory(atPath: root + "/blobs/sha256").sorted() {
            try writer.file("blobs/sha256/" + blob, contentsOf: root + "/blobs/sha256/" + blob)
        }
        try writer.finish()
        return path
    }

    /// The same image as `docker save` writes it: manifest.json, `<hex>.json`, `<id>/layer.tar`.
    func dockerArchive(tags: [String] = ["repo/app:1"]) throws -> String {
        let path = root + "-docker.tar"
        let writer = try ArchiveWriter(path: path, format: .pax, compression: .none)
        let configName = String(Self.digest(configBytes).dropFirst(7)) + ".json"
        let layerName = "0123abcd/layer.tar"
        let manifest = "[{\"Config\":\"\(configName)\",\"RepoTags\":[\(tags.map { "\"\($0)\"" }.joined(separator: ","))],\"Layers\":[\"\(layerName)\"]}]"
        try writer.file("manifest.json", data: Array(manifest.utf8))
        try writer.file(configName, data: configBytes)
        try writer.directory("0123abcd")
        try writer.file(layerName, data: layer)
        try writer.finish()
        return path
    }

    func remove() {
        for path in [root, root + ".tar", root + "-docker.tar"] { try? FileManager.default.removeItem(atPath: path) }
    }
}

@Suite struct ImageResolverTests {
    let amd64 = Platform(os: "linux", architecture: "amd64")

    /// Reads every byte of every layer through the store, as the pipeline does (digests checked).
    func layerBytes(_ image: ResolvedImage) throws -> [UInt8] {
        var all: [UInt8] = []
        for layer in image.layers {
            let source = VerifyingSource(try image.store.open(layer.path), what: layer.name, digest: layer.digest, size: layer.size)
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = try chunk.withUnsafeMutableBytes { try source.read(into: $0) }
                if n == 0 { break }
                all += chunk[0..<n]
            }
        }
        return all
    }

    @Test func theSameImageFromALayoutAnArchiveAndAPath() throws {
        let fixture = try LayoutFixture()
        defer { fixture.remove() }
        let fromLayout = try ImageResolver.resolve(.ociLayout(path: fixture.root, ref: "t"), platform: amd64)
        let fromArchive = try ImageResolver.resolve(.ociArchive(path: try fixture.archive(), ref: nil), platform: amd64)
        let fromPath = try ImageResolver.resolve(.path(fixture.root), platform: amd64)
        for image in [fromLayout, fromArchive, fromPath] {
            #expect(image.identity.description == fixture.manifestDigest)
            #expect(image.config.config?.cmd == ["/bin/sh"])
            #expect(image.layers.count == 1)
            #expect(try layerBytes(image) == fixture.layer)
        }
    }

    @Test func aDockerArchiveIsNamedByItsConfig() throws {
        let fixture = try LayoutFixture()
        defer { fixture.remove() }
        let archive = try fixture.dockerArchive()
        let image = try ImageResolver.resolve(.dockerArchive(path: archive, ref: "repo/app:1"), platform: amd64)
        #expect(image.identity.description == LayoutFixture.digest(fixture.configBytes))
        #expect(try layerBytes(image) == fixture.layer)
        // Detected from its content when given as a plain path.
        #expect(try ImageResolver.resolve(.path(archive), platform: amd64).identity == image.identity)
        #expect(throws: SourceError.refNotFound(ref: "repo/app:2", available: ["repo/app:1"])) {
            try ImageResolver.resolve(.dockerArchive(path: archive, ref: "repo/app:2"), platform: amd64)
        }
    }

    @Test func refsPickAnImageAndTwoRefsNeedOne() throws {
        let fixture = try LayoutFixture(tags: ["a", "b"])
        defer { fixture.remove() }
        #expect(throws: SourceError.ambiguousRef(available: ["a", "b"])) {
            try ImageResolver.resolve(.ociLayout(path: fixture.root, ref: nil), platform: amd64)
        }
        #expect(throws: SourceError.refNotFound(ref: "c", available: ["a", "b"])) {
            try ImageResolver.resolve(.ociLayout(path: fixture.root, ref: "c"), platform: amd64)
        }
        #expect(try ImageResolver.resolve(.ociLayout(path: fixture.root, ref: "b"), platform: amd64).layers.count == 1)
    }

    @Test func anotherPlatformIsNotTakenInstead() throws {
        let fixture = try LayoutFixture(platform: "arm64")
        defer { fixture.remove() }
        #expect(throws: SourceError.self) { try ImageResolver.resolve(.ociLayout(path: fixture.root, ref: nil), platform: amd64) }
        let arm = Platform(os: "linux", architecture: "arm64")
        #expect(try ImageResolver.resolve(.ociLayout(path: fixture.root, ref: nil), platform: arm).config.platform.architecture == "arm64")
    }

    @Test func aDamagedOrMissingLayerIsFoundWhenRead() throws {
        let damaged = try LayoutFixture(corruptLayer: true)
        defer { damaged.remove() }
        let image = try ImageResolver.resolve(.ociLayout(path: damaged.root, ref: nil), platform: amd64)
        #expect {
            try layerBytes(image)
        } throws: { error in
            guard case SourceError.digestMismatch(_, let expected, _)? = error as? SourceError else { return false }
            return expected == LayoutFixture.digest(damaged.layer)
        }
        let missing = try LayoutFixture(dropLayer: true)
        defer { missing.remove() }
        let incomplete = try ImageResolver.resolve(.ociLayout(path: missing.root, ref: nil), platform: amd64)
        #expect(throws: SourceError.missingBlob(incomplete.layers[0].path)) { try layerBytes(incomplete) }
    }

    @Test func whatIsNotAnImageSaysSo() throws {
        let folder = NSTemporaryDirectory() + "oci2disk-not-an-image-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(throws: SourceError.notAnImage(folder)) { try ImageResolver.resolve(.path(folder), platform: amd64) }
        #expect(throws: SourceError.notFound(folder + "/none")) { try ImageResolver.resolve(.path(folder + "/none"), platform: amd64) }
        #expect(throws: SourceError.notFound(folder + "/none.tar")) {
            try ImageResolver.resolve(.ociArchive(path: folder + "/none.tar", ref: nil), platform: amd64)
        }
    }
}
