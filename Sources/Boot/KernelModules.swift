import Foundation
import SystemBase

/// A kernel's loadable modules: for each, its dependencies (from the module's own `.modinfo`
/// section, since a .deb ships no modules.dep) and where its bytes are kept.
public final class KernelModules {
    public struct Module: Sendable {
        /// Canonical name: file name without `.ko`, dashes as underscores (`virtio_pci`).
        public let name: String
        /// Path below `/lib/modules/VERSION/` (e.g. `kernel/drivers/block/virtio_blk.ko`).
        public let relativePath: String
        public let depends: [String]
        let offset: Int64
        let size: Int
    }

    public private(set) var modules: [String: Module] = [:]
    /// Names built into the kernel (modules.builtin): nothing to load.
    public internal(set) var builtin: Set<String> = []
    /// The kernel releases the modules were built for (the first word of each `vermagic`).
    public private(set) var releases: Set<String> = []
    private let store: FileHandle
    private var storeSize: Int64 = 0

    /// Module bytes go to an unnamed temporary file: a kernel carries ~100 MB of modules and
    /// only a handful are needed, which is only known once all dependencies are read.
    init(scratchDirectory: String) throws {
        let path = scratchDirectory + "/.oci2disk-modules-\(getpid())-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw BootError.system(.lastError("\(scratchDirectory): create a temporary file"))
        }
        store = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        unlink(path)
    }

    func add(relativePath: String, bytes: [UInt8]) throws {
        let info = Self.modinfo(bytes)
        let name = info["name"].map { Self.canonical($0) } ?? Self.canonical(fileName: relativePath)
        let depends = (info["depends"] ?? "").split(separator: ",").map { Self.canonical(String($0)) }
        if let release = info["vermagic"]?.split(separator: " ").first { releases.insert(String(release)) }
        try store.seek(toOffset: UInt64(storeSize))
        try store.write(contentsOf: Data(bytes))
        modules[name] = Module(name: name, relativePath: relativePath, depends: depends, offset: storeSize, size: bytes.count)
        storeSize += Int64(bytes.count)
    }

    public func bytes(of module: Module) throws -> [UInt8] {
        try store.seek(toOffset: UInt64(module.offset))
        return [UInt8](try store.read(upToCount: module.size) ?? Data())
    }

    /// `wanted` and everything they depend on, dependencies first; built-in names are
    /// dropped. Names in `optional` may be absent; any other absent name is an error.
    public func closure(of wanted: [String], optional: Set<String> = [], kernel: String) throws(BootError) -> [Module] {
        var ordered: [Module] = []
        var done: Set<String> = []
        func visit(_ name: String, trail: Set<String>) throws(BootError) {
            let name = Self.canonical(name)
            guard !done.contains(name), !builtin.contains(name), !trail.contains(name) else { return }
            guard let module = modules[name] else {
                if optional.contains(name) { return }
                throw BootError.missingModule(name: name, kernel: kernel)
            }
            for dependency in module.depends { try visit(dependency, trail: trail.union([name])) }
            done.insert(name)
            ordered.append(module)
        }
        for name in wanted { try visit(name, trail: []) }
        return ordered
    }

    /// `.modinfo` is a run of NUL-terminated `key=value` strings; scanning the file for the
    /// keys we need finds them without an ELF parser (the keys are distinctive).
    public static func modinfo(_ bytes: [UInt8]) -> [String: String] {
        var result: [String: String] = [:]
        for key in ["name", "depends", "vermagic"] {
            let needle = Array((key + "=").utf8)
            var index = 0
            search: while index + needle.count < bytes.count {
                guard let start = bytes[index...].firstIndex(of: needle[0]) else { break }
                if start == 0 || bytes[start - 1] == 0, bytes[start..<min(start + needle.count, bytes.count)].elementsEqual(needle) {
                    let valueStart = start + needle.count
                    let end = bytes[valueStart...].firstIndex(of: 0) ?? bytes.count
                    result[key] = String(decoding: bytes[valueStart..<end], as: UTF8.self)
                    break search
                }
                index = start + 1
            }
        }
        return result
    }

    static func canonical(_ name: String) -> String { name.replacingOccurrences(of: "-", with: "_") }

    static func canonical(fileName path: String) -> String {
        var name = Substring(path.split(separator: "/").last ?? "")
        for suffix in [".xz", ".zst", ".gz"] where name.hasSuffix(suffix) { name = name.dropLast(suffix.count) }
        if name.hasSuffix(".ko") { name = name.dropLast(3) }
        return canonical(String(name))
    }
}
