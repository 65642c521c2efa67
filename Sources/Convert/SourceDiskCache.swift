import Boot
import Foundation
import ImageSource
import OCIModels

/// Disks made by `run SOURCE`, kept under the user's cache folder and reused while the image
/// (its manifest digest), the platform and the default kernel stay the same.
public struct SourceDiskCache: Sendable {
    /// The cache's root (`~/.cache/oci2disk`); the disks go in its `disks/`.
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// The cached disk for `reference`, converted now if there is none.
    public func disk(for reference: SourceReference, platform: Platform, registry: RegistryOptions, boot: BootOptions) throws -> String {
        let image = try ImageResolver.resolve(reference, platform: platform, registry: registry)
        let kernel = boot.assets.defaultKernelPackage ?? "none"
        var hasher = ContentHasher(.sha256)
        Array("v1|\(image.identity)|\(platform)|\(kernel)".utf8).withUnsafeBytes { hasher.update($0) }
        let key = String(hasher.finalize().hex.prefix(32))
        let folder = directory + "/disks"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/\(key).img"
        if FileManager.default.fileExists(atPath: path) { return path }
        var options = ConvertOptions(source: reference, output: path)
        options.platform = platform
        options.registry = registry
        options.boot = boot
        _ = try Converter.run(options)
        return path
    }
}
