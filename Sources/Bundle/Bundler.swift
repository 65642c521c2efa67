import GuestContract
import SystemBase
import Flatten
import ImagePipeline
import Foundation
import ImageSource
import OCIModels
#if canImport(Glibc)
import Glibc
#endif

/// The pipeline for `bundle`: the same source resolution and layer flattening as `convert`,
/// then a host folder instead of ext4: `DIR/config.json` + `DIR/rootfs/`.
public enum Bundler {
    public static func run(
        _ options: BundleOptions, cancellation: Cancellation = Cancellation(),
        progress: (BundleEvent) -> Void = { _ in }
    ) throws -> BundleResult {
        let started = Date()
        let output = try BundleOutput(target: options.output, force: options.force)
        defer { output.discard() }
        let image = try ImageResolver.resolve(options.source, platform: options.platform, registry: options.registry)
        progress(.resolved(manifest: image.identity.description, platform: image.config.platform.description, layers: image.layers.count))

        let spill = try SpillFile(directory: output.parentPath)
        let tree = FileTree(defaultTime: options.sourceDateEpoch ?? image.config.createdSeconds ?? 0)
        try LayerPipeline.flatten(image, into: tree, spill: spill) { progress(.layer($0)) }

        // The config first: a user the image does not know fails before anything is written.
        let rootless = options.rootless ? DefaultSpec.RootlessIdentity(uid: geteuid(), gid: getegid()) : nil
        let spec = try SpecGenerator.generate(
            config: image.config, users: try UserDatabase(tree: tree, spill: spill),
            overrides: options.overrides, rootless: rootless)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let configJSON = try encoder.encode(spec) + Data("\n".utf8)

        guard cancellation.beginWriting() else { throw BundleError.interrupted(signal: cancellation.requested ?? SIGINT) }
        // Remove an unfinished folder before a signal may exit the process without waiting.
        defer {
            output.discard()
            cancellation.endWriting()
        }
        progress(.writingRootfs)
        let bundle = OwnedDescriptor(adopting: try output.create())
        _ = try "rootfs".withCString { name in try posix("\(options.output): create rootfs") { mkdirat(bundle.raw, name, 0o700) } }
        let rootfs = try OwnedDescriptor.directory(Array("rootfs".utf8), in: bundle.raw, "\(options.output): open rootfs")
        let summary = try BundleWriter.write(tree: tree, spill: spill, into: rootfs.raw, rootless: options.rootless) { cancellation.requested }
        try writeFile(configJSON, named: "config.json", in: bundle.raw, display: options.output + "/config.json")
        if let signal = cancellation.requested { throw BundleError.interrupted(signal: signal) }
        try output.commit()

        var notes: [String] = []
        if spec.process?.args?.isEmpty ?? true {
            notes.append("the image has no command (Entrypoint or Cmd): set process.args in config.json or give --cmd")
        }
        if let user = spec.process?.user, options.rootless, user.uid != 0 || user.gid != 0 {
            notes.append(
                "the process runs as \(user.uid):\(user.gid), but a rootless bundle maps only root: "
                    + "add mappings to linux.uidMappings/gidMappings or give --user 0")
        }
        if !summary.skippedDevices.isEmpty {
            notes.append("rootless: \(summary.skippedDevices.count) device file(s) not created (\(Self.sample(summary.skippedDevices)))")
        }
        if !summary.skippedXattrs.isEmpty {
            notes.append("rootless: \(summary.skippedXattrs.count) extended attribute(s) not set (\(Self.sample(summary.skippedXattrs)))")
        }
        let result = BundleResult(
            output: options.output, manifest: image.identity.description, platform: image.config.platform.description,
            layers: image.layers.count, rootless: options.rootless, files: summary.files,
            directories: summary.directories, dataBytes: summary.dataBytes, notes: notes,
            seconds: Date().timeIntervalSince(started))
        progress(.finished(result))
        return result
    }

    private static func writeFile(_ data: Data, named name: String, in directory: Int32, display: String) throws {
        let file = OwnedDescriptor(
            adopting: try name.withCString { n in
                try posix("\(display): create") { openat(directory, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644) }
            })
        do { try FileIO.writeFully(file.raw, [UInt8](data), "\(display): write") } catch { throw BundleError(error) }
        try posix("\(display): chmod") { fchmod(file.raw, 0o644) }
        try file.close("\(display): close")
    }

    private static func sample(_ items: [String]) -> String {
        items.prefix(3).joined(separator: ", ") + (items.count > 3 ? ", …" : "")
    }
}
