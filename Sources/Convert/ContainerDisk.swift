import Archive
import Disk
import Foundation
import ImageSource
import OCIModels

/// Writes a disk as a KubeVirt containerDisk: an OCI image whose one layer holds the qcow2
/// at `/disk/disk.qcow2`, owned by qemu (107:107), in an OCI image layout that skopeo and
/// other `oci:`-aware tools can push. Blobs are content-addressed; index.json is replaced
/// atomically, so adding a tag to an existing layout is safe.
enum ContainerDisk {
    static let qemuID: Int64 = 107

    /// `oci:DIR[:TAG]` or `DIR` (tag `latest`).
    static func parse(_ text: String) -> (directory: String, tag: String) {
        var rest = Substring(text)
        if rest.hasPrefix("oci:") { rest = rest.dropFirst(4) }
        if let colon = rest.firstIndex(of: ":") {
            return (String(rest[..<colon]), String(rest[rest.index(after: colon)...]))
        }
        return (String(rest), "latest")
    }

    static func write(qcow2: String, to reference: String, created: String?) throws -> Digest {
        let (directory, tag) = parse(reference)
        let blobs = directory + "/blobs/sha256"
        try FileManager.default.createDirectory(atPath: blobs, withIntermediateDirectories: true)
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: directory + "/oci-layout"))

        // The layer: /disk/ and /disk/disk.qcow2, uncompressed (qcow2 is already compact), so
        // its digest is also its diff_id.
        let layerTemp = blobs + "/.layer-\(getpid())"
        defer { unlink(layerTemp) }
        let writer = try ArchiveWriter(path: layerTemp, format: .pax, compression: .none)
        writer.owner = (qemuID, qemuID)
        try writer.directory("disk", permissions: 0o555)
        try writer.file("disk/disk.qcow2", permissions: 0o440, contentsOf: qcow2)
        try writer.finish()
        let (layerDigest, layerSize) = try store(file: layerTemp, in: blobs)

        var config = ImageConfig(architecture: "amd64", os: "linux", created: created, rootfs: RootFS(diffIDs: [layerDigest]))
        config.config = RunConfig()
        let configDescriptor = try store(json: config, mediaType: MediaTypes.ociConfig, in: blobs)
        let manifest = Manifest(config: configDescriptor,
                                layers: [Descriptor(mediaType: MediaTypes.ociLayer, digest: layerDigest, size: layerSize)])
        var manifestDescriptor = try store(json: manifest, mediaType: MediaTypes.ociManifest, in: blobs)
        manifestDescriptor.annotations = [Descriptor.refNameAnnotation: tag]
        manifestDescriptor.platform = Platform.linuxAMD64

        let indexPath = directory + "/index.json"
        var index = (try? JSONDecoder().decode(Index.self, from: Data(contentsOf: URL(fileURLWithPath: indexPath)))) ?? Index(manifests: [])
        index.manifests.removeAll { $0.refName == tag }
        index.manifests.append(manifestDescriptor)
        try encoder.encode(index).write(to: URL(fileURLWithPath: indexPath), options: .atomic)
        return manifestDescriptor.digest
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    private static func store<T: Encodable>(json value: T, mediaType: String, in blobs: String) throws -> Descriptor {
        let bytes = try encoder.encode(value)
        var hasher = ContentHasher(.sha256)
        bytes.withUnsafeBytes { hasher.update($0) }
        let digest = hasher.finalize()
        try bytes.write(to: URL(fileURLWithPath: blobs + "/" + digest.hex), options: .atomic)
        return Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count))
    }

    /// Hashes a finished file and moves it to its content address.
    private static func store(file: String, in blobs: String) throws -> (Digest, Int64) {
        let source = VerifyingSource(try FileByteSource(path: file), what: file, digest: nil, size: nil)
        try source.drain()
        guard let digest = source.computedDigest else { throw DiskError.io("\(file): cannot hash") }
        let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value ?? 0
        guard rename(file, blobs + "/" + digest.hex) == 0 else { throw DiskError.io("\(blobs): cannot store the layer") }
        return (digest, size)
    }
}
