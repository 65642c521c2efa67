import Archive
import Disk
import Foundation
import OCIModels

/// What a kernel package gives every bootable disk — its kernel, and the initramfs's first
/// segment (the module closure and the init) — kept between converts. Building it means
/// decompressing the whole package (seconds of xz); nothing in it depends on the image.
///
/// An entry is a folder named by a digest of the package's bytes, the init's bytes and the
/// wanted modules, holding `vmlinuz`, `initramfs-base` and `manifest.json` (with the two
/// files' SHA-256). It is built in a private temporary folder and renamed into place, so
/// concurrent converts see a whole entry or none; a digest that does not match makes the entry
/// be removed and built again, never used. The most recently used `keep` entries stay.
public struct BootPartsCache: Sendable {
    public let directory: String
    static let keep = 4
    static let format = 1

    struct Manifest: Codable, Equatable {
        var format: Int
        var version: String
        var architecture: String
        var modulePaths: [String]
        var vmlinuzSHA256: String
        var initramfsBaseSHA256: String
    }

    public init(directory: String) {
        self.directory = directory
    }

    /// The package's kernel made ready for disks: from an intact entry, else built (and stored).
    /// The package is checked against `platform` either way.
    public func kernel(package path: String, platform: Platform, initBinary: [UInt8], scratch: String) throws -> BootKernel {
        let entry = directory + "/" + (try Self.key(package: path, initBinary: initBinary))
        if let cached = try load(entry, package: path, platform: platform) { return cached }
        let kernel = try KernelPackage.read(path, platform: platform, scratchDirectory: scratch)
        let prepared = try Initramfs.prepare(kernel, initBinary: initBinary, scratch: scratch)
        // A cache that cannot be written costs speed, not the disk.
        try? store(prepared, at: entry, architecture: platform.architecture)
        return prepared
    }

    /// nil when there is no intact entry (a damaged one is removed on the way).
    func load(_ entry: String, package: String, platform: Platform) throws -> BootKernel? {
        guard let data = FileManager.default.contents(atPath: entry + "/manifest.json") else { return nil }
        guard let manifest = try? JSONDecoder().decode(Manifest.self, from: data), manifest.format == Self.format,
            let image = FileManager.default.contents(atPath: entry + "/vmlinuz").map([UInt8].init),
            let base = FileManager.default.contents(atPath: entry + "/initramfs-base").map([UInt8].init),
            Self.sha256(image) == manifest.vmlinuzSHA256, Self.sha256(base) == manifest.initramfsBaseSHA256
        else {
            remove(entry)
            return nil
        }
        // The same checks as when the package is read: an entry is never a way around them.
        try KernelCompatibility.checkPackageArchitecture(manifest.architecture, package: package, platform: platform)
        try KernelCompatibility.checkImage(image, origin: "\(package) (its boot/vmlinuz-\(manifest.version))", platform: platform)
        // Recently used entries are the ones pruning keeps.
        _ = utimes(entry, nil)
        return BootKernel(version: manifest.version, image: image, initramfsBase: base, modulePaths: manifest.modulePaths)
    }

    func store(_ kernel: BootKernel, at entry: String, architecture: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let building = try PrivateTemporary.directory(in: directory, prefix: ".building")
        TemporaryFiles.shared.add(building)
        defer {
            try? FileManager.default.removeItem(atPath: building)
            TemporaryFiles.shared.remove(building)
        }
        let manifest = Manifest(
            format: Self.format, version: kernel.version, architecture: architecture, modulePaths: kernel.modulePaths,
            vmlinuzSHA256: Self.sha256(kernel.image), initramfsBaseSHA256: Self.sha256(kernel.initramfsBase))
        try Data(kernel.image).write(to: URL(fileURLWithPath: building + "/vmlinuz"))
        try Data(kernel.initramfsBase).write(to: URL(fileURLWithPath: building + "/initramfs-base"))
        try JSONEncoder().encode(manifest).write(to: URL(fileURLWithPath: building + "/manifest.json"))
        chmod(building, 0o755)
        // Another convert may have stored the same entry meanwhile: theirs stays, ours goes.
        if rename(building, entry) == 0 { prune() }
    }

    /// Keeps the `keep` most recently used entries.
    func prune() {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { !$0.hasPrefix(".") }
        let dated = names.compactMap { name -> (String, Date)? in
            guard let date = (try? FileManager.default.attributesOfItem(atPath: directory + "/" + name))?[.modificationDate] as? Date else { return nil }
            return (name, date)
        }
        for (name, _) in dated.sorted(by: { $0.1 > $1.1 }).dropFirst(Self.keep) { remove(directory + "/" + name) }
    }

    /// Moved aside first, so no reader finds a half-deleted entry.
    private func remove(_ entry: String) {
        let aside = directory + "/.removing-\(UUID().uuidString)"
        guard rename(entry, aside) == 0 else { return }
        try? FileManager.default.removeItem(atPath: aside)
    }

    /// The entry's name: everything the entry's bytes depend on.
    static func key(package path: String, initBinary: [UInt8]) throws -> String {
        let source: FileByteSource
        do { source = try FileByteSource(path: path) } catch {
            throw BootError.kernelPackage(path: path, reason: "\(error)")
        }
        var package = ContentHasher(.sha256)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if count == 0 { break }
            buffer.withUnsafeBytes { package.update(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        }
        let text =
            "oci2disk boot parts \(format)\npackage \(package.finalize().hex)\ninit \(sha256(initBinary))\nmodules \(Initramfs.wantedModules.joined(separator: ","))\n"
        return sha256(Array(text.utf8))
    }

    static func sha256(_ bytes: [UInt8]) -> String {
        var hasher = ContentHasher(.sha256)
        bytes.withUnsafeBytes { hasher.update($0) }
        return hasher.finalize().hex
    }
}
