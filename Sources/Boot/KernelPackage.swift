import Archive
import Foundation
import ImageSource

/// A kernel to boot: its image and its modules.
public struct Kernel {
    public let version: String
    public let image: [UInt8]
    public let modules: KernelModules
    /// Where it came from, for messages.
    public let origin: String
}

/// Reads a Debian/Ubuntu `linux-image-*` package in-process: the `ar` container, then
/// `data.tar.*`, keeping `boot/vmlinuz-*` and `lib/modules/VERSION/**.ko`.
public enum KernelPackage {
    public static func read(_ path: String, scratchDirectory: String) throws -> Kernel {
        let outer: ArchiveReader
        do {
            outer = try ArchiveReader(source: try FileByteSource(path: path), format: .ar, filter: .none, name: path)
        } catch let error as SourceError {
            throw BootError.kernelPackage(path: path, reason: error.description)
        }
        while let member = try outer.next() {
            let name = String(decoding: member.path, as: UTF8.self)
            guard name.hasPrefix("data.tar") else { continue }
            return try readData(ArchiveMemberStream(outer), package: path, scratchDirectory: scratchDirectory)
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
                images[String(path.dropFirst("boot/vmlinuz-".count))] = try readAll(reader)
            } else if path.hasPrefix("lib/modules/") || path.hasPrefix("usr/lib/modules/") {
                let parts = path.split(separator: "/", maxSplits: path.hasPrefix("usr/") ? 4 : 3).map(String.init)
                guard let rest = parts.last, parts.count >= 4 else { continue }
                let version = parts[parts.count - 2]
                if rest.hasSuffix(".ko") {
                    try modules.add(relativePath: rest, bytes: try readAll(reader))
                } else if rest == "modules.builtin" {
                    let text = String(decoding: try readAll(reader), as: UTF8.self)
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

    static func readAll(_ reader: ArchiveReader) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let block = try reader.readBlock() {
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
