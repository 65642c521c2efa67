import Archive
import Flatten
import Foundation

/// Where kernels come from besides packages: loose files, or the image itself.
public enum KernelSources {
    /// `--kernel vmlinuz [--modules DIR]`; DIR is a `/lib/modules/VERSION` tree.
    public static func files(kernel: String, modules: String?, scratchDirectory: String) throws -> Kernel {
        guard let image = FileManager.default.contents(atPath: kernel) else { throw BootError.io("\(kernel): cannot read the kernel") }
        let store = try KernelModules(scratchDirectory: scratchDirectory)
        var version = "custom"
        if let modules {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: modules, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw BootError.io("\(modules): not a directory of modules")
            }
            version = URL(fileURLWithPath: modules).lastPathComponent
            let enumerator = FileManager.default.enumerator(atPath: modules)
            while let relative = enumerator?.nextObject() as? String {
                if relative.hasSuffix(".ko"), let bytes = FileManager.default.contents(atPath: modules + "/" + relative) {
                    try store.add(relativePath: relative, bytes: [UInt8](bytes))
                }
            }
            if let builtin = try? String(contentsOfFile: modules + "/modules.builtin", encoding: .utf8) {
                store.builtin = Set(builtin.split(separator: "\n").map { KernelModules.canonical(fileName: String($0)) })
            }
        } else {
            // No modules: the drivers must be built in; treat everything as such.
            store.builtin = Set(Initramfs.wantedModules)
        }
        return Kernel(version: version, image: [UInt8](image), modules: store, origin: kernel)
    }

    /// The newest `/boot/vmlinuz-VERSION` in the image that has `/lib/modules/VERSION`.
    public static func fromImage(_ tree: FileTree, spill: SpillFile, scratchDirectory: String) throws -> Kernel? {
        let versions = tree.list("boot").filter { $0.hasPrefix("vmlinuz-") }.map { String($0.dropFirst("vmlinuz-".count)) }
            .filter { !tree.list("lib/modules/\($0)").isEmpty }.sorted()
        guard let version = versions.last, case .regular(let file)? = tree.resolve("boot/vmlinuz-\(version)")?.content else { return nil }
        let store = try KernelModules(scratchDirectory: scratchDirectory)
        // The modules folder itself may sit behind a symlink (usrmerge: /lib -> usr/lib), but
        // inside it only real folders are entered: a symlink loop in an image must not make
        // this walk (or read) anything twice.
        func walk(_ directory: Directory, _ relative: String, depth: Int) throws {
            guard depth < 16 else { return }
            for name in directory.sortedNames {
                let child = directory.children[name]!.inode
                let path = relative.isEmpty ? String(decoding: name, as: UTF8.self) : relative + "/" + String(decoding: name, as: UTF8.self)
                switch child.content {
                case .directory(let sub): try walk(sub, path, depth: depth + 1)
                case .regular(let data) where path.hasSuffix(".ko"): try store.add(relativePath: path, bytes: try spill.read(data, limit: 256 << 20))
                default: continue
                }
            }
        }
        if case .directory(let modules)? = tree.resolve("lib/modules/\(version)")?.content { try walk(modules, "", depth: 0) }
        if case .regular(let data)? = tree.resolve("lib/modules/\(version)/modules.builtin")?.content {
            store.builtin = Set(String(decoding: try spill.read(data, limit: 16 << 20), as: UTF8.self).split(separator: "\n").map { KernelModules.canonical(fileName: String($0)) })
        }
        return Kernel(version: version, image: try spill.read(file, limit: 256 << 20), modules: store, origin: "the image's /boot/vmlinuz-\(version)")
    }

    /// The package `scripts/setup` downloads: $OCI2DISK_KERNEL_PACKAGE, else the newest
    /// `linux-image-*.deb` in the user's cache folder.
    public static func defaultPackage() -> String? {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["OCI2DISK_KERNEL_PACKAGE"], !path.isEmpty { return path }
        let directory = defaultKernelDirectory()
        let packages = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix("linux-image-") && $0.hasSuffix(".deb") }.sorted()
        return packages.last.map { directory + "/" + $0 }
    }

    public static func defaultKernelDirectory() -> String {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.cache")
        return cache + "/oci2disk/kernels"
    }

    /// The static init built by `scripts/build-init`: $OCI2DISK_INIT, beside this binary, or in
    /// the source tree's build folder.
    public static func initBinary() throws -> [UInt8] {
        var candidates: [String] = []
        if let path = ProcessInfo.processInfo.environment["OCI2DISK_INIT"], !path.isEmpty { candidates.append(path) }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        candidates.append(executable.appendingPathComponent("oci2disk-init").path)
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build-init/oci2disk-init").standardized.path)
        for path in candidates {
            if let bytes = FileManager.default.contents(atPath: path) { return [UInt8](bytes) }
        }
        throw BootError.io("the guest init (oci2disk-init) is missing: run scripts/build-init (looked in \(candidates.joined(separator: ", ")))")
    }
}
