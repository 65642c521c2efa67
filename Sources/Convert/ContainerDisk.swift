import SystemBase
import Archive
import Disk
import Foundation
import ImageSource
import OCIModels

/// Writes a disk as a KubeVirt containerDisk: an OCI image whose one layer holds the qcow2
/// at `/disk/disk.qcow2`, owned by qemu (107:107), in an OCI image layout that skopeo and
/// other `oci:`-aware tools can push. Blobs are content-addressed; index.json is replaced
/// atomically, after the disk is committed, so adding a tag to an existing layout is safe. An
/// existing index.json that cannot be read is an error, never replaced: its other tags would
/// be lost.
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

    /// A manifest stored in the layout, not yet named by its index.
    struct PendingTag {
        let indexPath: String
        let tag: String
        let descriptor: Descriptor

        /// Adds the tag to index.json (replacing an entry of the same tag), atomically.
        func publish() throws {
            var index = try ContainerDisk.existingIndex(indexPath)
            index.manifests.removeAll { $0.refName == tag }
            index.manifests.append(descriptor)
            try ContainerDisk.encoder.encode(index).write(to: URL(fileURLWithPath: indexPath), options: .atomic)
        }
    }

    /// The layout's index, or an empty one when there is none yet.
    static func existingIndex(_ path: String) throws -> Index {
        guard FileManager.default.fileExists(atPath: path) else { return Index(manifests: []) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConvertError.containerDisk(path: path, problem: "cannot read the layout's index")
        }
        do { return try JSONDecoder().decode(Index.self, from: data) } catch {
            throw ConvertError.containerDisk(path: path, problem: "not an OCI index (\(error)); refusing to replace it, which would drop its other tags")
        }
    }

    /// Fails on a layout whose index cannot be read: checked before the conversion starts.
    static func checkLayout(_ reference: String) throws {
        _ = try existingIndex(parse(reference).directory + "/index.json")
    }

    /// Stores the image's blobs; the tag is added by `PendingTag.publish`.
    static func write(qcow2: String, to reference: String, created: String?) throws -> PendingTag {
        let (directory, tag) = parse(reference)
        let indexPath = directory + "/index.json"
        _ = try existingIndex(indexPath)
        let blobs = directory + "/blobs/sha256"
        try FileManager.default.createDirectory(atPath: blobs, withIntermediateDirectories: true)
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: directory + "/oci-layout"))

        // The layer: /disk/ and /disk/disk.qcow2, uncompressed (qcow2 is already compact), so
        // its digest is also its diff_id.
        let layerTemp = try PrivateTemporary.file(in: blobs, prefix: ".layer")
        TemporaryFiles.shared.add(layerTemp)
        defer {
            unlink(layerTemp)
            TemporaryFiles.shared.remove(layerTemp)
        }
        let writer = try ArchiveWriter(path: layerTemp, format: .pax, compression: .none)
        writer.owner = (qemuID, qemuID)
        try writer.directory("disk", permissions: 0o555)
        try writer.file("disk/disk.qcow2", permissions: 0o440, contentsOf: qcow2)
        try writer.finish()
        let (layerDigest, layerSize) = try store(file: layerTemp, in: blobs)

        var config = ImageConfig(architecture: "amd64", os: "linux", created: created, rootfs: RootFS(diffIDs: [layerDigest]))
        config.config = RunConfig()
        let configDescriptor = try store(json: config, mediaType: MediaTypes.ociConfig, in: blobs)
        let manifest = Manifest(
            config: configDescriptor,
            layers: [Descriptor(mediaType: MediaTypes.ociLayer, digest: layerDigest, size: layerSize)])
        var manifestDescriptor = try store(json: manifest, mediaType: MediaTypes.ociManifest, in: blobs)
        manifestDescriptor.annotations = [Descriptor.refNameAnnotation: tag]
        manifestDescriptor.platform = Platform.linuxAMD64

        return PendingTag(indexPath: indexPath, tag: tag, descriptor: manifestDescriptor)
    }

    static let encoder: JSONEncoder = {
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
        guard let digest = source.computedDigest else { throw ConvertError.containerDisk(path: file, problem: "cannot hash") }
        let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value ?? 0
        guard rename(file, blobs + "/" + digest.hex) == 0 else {
            throw ConvertError.containerDisk(path: blobs, problem: "cannot store the layer: \(SystemError.message(errno))")
        }
        return (digest, size)
    }
}
