import SystemBase
import Archive
import Foundation
import OCIModels

/// A kernel to boot: its image and its modules.
public struct Kernel {
    public let version: String
    public let image: [UInt8]
    public let modules: KernelModules
    /// Where it came from, for messages.
    public let origin: String
    /// Whether its modules came with it (a package, a modules folder, the image's own);
    /// without, the drivers the disk needs must be built in.
    public let hasModuleTree: Bool

    public init(version: String, image: [UInt8], modules: KernelModules, origin: String, hasModuleTree: Bool = true) {
        self.version = version
        self.image = image
        self.modules = modules
        self.origin = origin
        self.hasModuleTree = hasModuleTree
    }
}

/// Reads a Debian/Ubuntu `linux-image-*` package in-process: the `ar` container, then
/// `data.tar.*`, keeping `boot/vmlinuz-*` and `lib/modules/VERSION/**.ko`.
public enum KernelPackage {
    /// The package's kernel, checked to be a bzImage for `platform` (its `Architecture` field
    /// first, from the small control member that comes before the data).
    public static func read(_ path: String, platform: Platform, scratchDirectory: String) throws -> Kernel {
        let outer: ArchiveReader
        do {
            outer = try ArchiveReader(source: try FileByteSource(path: path), format: .ar, filter: .none, name: path)
        } catch let error as SystemError {
            throw BootError.kernelPackage(path: path, reason: SystemError.message(error.code))
        }
        var architecture: String?
        while let member = try outer.next() {
            let name = String(decoding: member.path, as: UTF8.self)
            if name.hasPrefix("control.tar") {
                architecture = try controlField("Architecture", in: ArchiveMemberStream(outer), package: path)
                guard let architecture else { throw BootError.kernelPackage(path: path, reason: "its control file has no Architecture field") }
                try KernelCompatibility.checkPackageArchitecture(architecture, package: path, platform: platform)
                continue
            }
            guard name.hasPrefix("data.tar") else { continue }
            guard architecture != nil else { throw BootError.kernelPackage(path: path, reason: "not a Debian package (no control member before its data)") }
            let kernel = try readData(ArchiveMemberStream(outer), package: path, scratchDirectory: scratchDirectory)
            try KernelCompatibility.checkImage(kernel.image, origin: "\(path) (its boot/vmlinuz-\(kernel.version))", platform: platform)
            return kernel
        }
        throw BootError.kernelPackage(path: path, reason: "not a Debian package (no data.tar member)")
    }

    private static func readData(_ data: any ByteSource, package: String, scratchDirectory: String) throws -> Kernel {
        let reader = try ArchiveReader(source: data, format: .tar, filter: .detect, name: package)
        let modules = try KernelModules(scratchDirectory: scratchDirectory)
        var images: [String: [UInt8]] = [:]
        var builtin: [String: Set<String>] = [:]
        while let entry = try reader.next() {
            var path = String(decoding: entry.path, as: UTF8.self)
            while path.hasPrefix("./") { path.removeFirst(2) }
            guard entry.kind == .regular else { continue }
            if path.hasPrefix("boot/vmlinuz-") {
                images[String(path.dropFirst("boot/vmlinuz-".count))] = try readAll(reader, package: package)
            } else if path.hasPrefix("lib/modules/") || path.hasPrefix("usr/lib/modules/") {
                let parts = path.split(separator: "/", maxSplits: path.hasPrefix("usr/") ? 4 : 3).map(String.init)
                guard let rest = parts.last, parts.count >= 4 else { continue }
                let version = parts[parts.count - 2]
                if rest.hasSuffix(".ko") {
                    try modules.add(relativePath: rest, bytes: try readAll(reader, package: package))
                } else if rest == "modules.builtin" {
                    let text = String(decoding: try readAll(reader, package: package), as: UTF8.self)
                    builtin[version] = Set(text.split(separator: "\n").map { KernelModules.canonical(fileName: String($0)) })
                }
            }
        }
        guard let (version, image) = images.sorted(by: { $0.key < $1.key }).last else {
            throw BootError.kernelPackage(path: package, reason: "no boot/vmlinuz-* in the package")
        }
        modules.builtin = builtin[version] ?? []
        return Kernel(version: version, image: image, modules: modules, origin: package)
    }

    /// A field of the package's `control` file (deb-control(5): `Name: value` lines).
    static func controlField(_ field: String, in member: any ByteSource, package: String) throws -> String? {
        let reader = try ArchiveReader(source: member, format: .tar, filter: .detect, name: package)
        while let entry = try reader.next() {
            var path = String(decoding: entry.path, as: UTF8.self)
            while path.hasPrefix("./") { path.removeFirst(2) }
            guard path == "control", entry.kind == .regular else { continue }
            let text = String(decoding: try readAll(reader, package: package, limit: 1 << 20), as: UTF8.self)
            for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix(field + ":") {
                return line.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces)
            }
            return nil
        }
        return nil
    }

    /// A member's bytes, at most `limit`: a sparse entry's offsets come from the archive and
    /// must not make this reserve more than a kernel package's file can hold.
    static func readAll(_ reader: ArchiveReader, package: String, limit: Int = 256 << 20) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let block = try reader.readBlock() {
            guard block.offset >= 0, block.offset <= Int64(limit), Int(block.offset) + block.bytes.count <= limit else {
                throw BootError.kernelPackage(path: package, reason: "a member larger than \(limit >> 20) MiB: not a kernel package")
            }
            if Int(block.offset) > bytes.count { bytes += [UInt8](repeating: 0, count: Int(block.offset) - bytes.count) }
            bytes += block.bytes
        }
        return bytes
    }
}

/// The current member of an outer archive as a stream (archives inside archives).
final class ArchiveMemberStream: ByteSource {
    let reader: ArchiveReader
    init(_ reader: ArchiveReader) { self.reader = reader }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try reader.read(into: buffer) }
}
