import Archive
import Flatten
import Foundation
import OCIModels
import SystemBase

/// Where kernels come from besides packages: loose files, or the image itself.
public enum KernelSources {
    /// `--kernel vmlinuz [--modules DIR]`; DIR is a `/lib/modules/VERSION` tree, and must be
    /// the kernel's own: named after its release, or its modules' `vermagic` naming it.
    public static func files(kernel path: String, modules: String?, platform: Platform, scratchDirectory: String) throws -> Kernel {
        let bytes = try readFile(path, what: "the kernel")
        let image = try KernelCompatibility.checkImage(bytes, origin: path, platform: platform)
        let store = try KernelModules(scratchDirectory: scratchDirectory)
        guard let modules else {
            // No modules: the drivers must be built in (checked below, in the kernel itself).
            let kernel = Kernel(version: image.release ?? "custom", image: bytes, modules: store, origin: path, hasModuleTree: false)
            try KernelCompatibility.checkRequiredDrivers(of: kernel)
            return kernel
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: modules, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw BootError.notADirectory(path: modules, what: "--modules takes the kernel's /lib/modules/RELEASE")
        }
        let enumerator = FileManager.default.enumerator(atPath: modules)
        while let relative = enumerator?.nextObject() as? String {
            guard relative.hasSuffix(".ko") else { continue }
            try store.add(relativePath: relative, bytes: try readFile(modules + "/" + relative, what: "a module"))
        }
        let builtinPath = modules + "/modules.builtin"
        if FileManager.default.fileExists(atPath: builtinPath) {
            store.builtin = builtinNames(try readFile(builtinPath, what: "the list of built-in modules"))
        }
        let name = URL(fileURLWithPath: modules).lastPathComponent
        if let release = image.release {
            // The modules' own word decides when they carry one; an empty folder has only its name.
            let built = store.releases.isEmpty ? [name] : store.releases
            guard built.contains(release) else {
                throw BootError.modulesMismatch(directory: modules, modulesRelease: built.sorted().joined(separator: ", "), kernelRelease: release)
            }
        }
        let kernel = Kernel(version: name, image: bytes, modules: store, origin: path)
        try KernelCompatibility.checkRequiredDrivers(of: kernel)
        return kernel
    }

    private static func readFile(_ path: String, what: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            guard FileManager.default.fileExists(atPath: path) else { throw BootError.unreadable(path: path, what: "\(what): no such file") }
            throw BootError.unreadable(path: path, what: "\(what) (permission denied?)")
        }
        return [UInt8](data)
    }

    static func builtinNames(_ bytes: [UInt8]) -> Set<String> {
        Set(String(decoding: bytes, as: UTF8.self).split(separator: "\n").map { KernelModules.canonical(fileName: String($0)) })
    }

    /// The newest `/boot/vmlinuz-VERSION` in the image that has `/lib/modules/VERSION`.
    /// Checked like any other kernel: an image for another CPU, or a file there that is no
    /// kernel, is an error rather than a disk that cannot boot.
    public static func fromImage(_ tree: FileTree, spill: SpillFile, platform: Platform, scratchDirectory: String) throws -> Kernel? {
        let versions = tree.list("boot").filter { $0.hasPrefix("vmlinuz-") }.map { String($0.dropFirst("vmlinuz-".count)) }
            .filter { !tree.list("lib/modules/\($0)").isEmpty }.sorted()
        guard let version = versions.last, case .regular(let file)? = tree.resolve("boot/vmlinuz-\(version)")?.content else { return nil }
        let store = try modules(in: tree, release: version, spill: spill, scratchDirectory: scratchDirectory)
        let origin = "the image's /boot/vmlinuz-\(version)"
        let bytes = try spill.read(file, limit: 256 << 20)
        try KernelCompatibility.checkImage(bytes, origin: origin, platform: platform)
        let kernel = Kernel(version: version, image: bytes, modules: store, origin: origin)
        try KernelCompatibility.checkRequiredDrivers(of: kernel)
        return kernel
    }
}

extension KernelSources {
    /// LinuxKit's layout: the kernel at `/kernel`, its modules (if any) in `/lib/modules/RELEASE`
    /// for the release its header names. nil when there is no `/kernel`.
    public static func linuxKitLayout(_ tree: FileTree, spill: SpillFile, platform: Platform, origin: String, scratchDirectory: String) throws -> Kernel? {
        guard case .regular(let file)? = tree.resolve("kernel")?.content else { return nil }
        let path = "\(origin): /kernel"
        let bytes = try spill.read(file, limit: 256 << 20)
        let image = try KernelCompatibility.checkImage(bytes, origin: path, platform: platform)
        let release = image.release ?? "custom"
        let hasModules = !tree.list("lib/modules/\(release)").isEmpty
        let store = try modules(in: tree, release: release, spill: spill, scratchDirectory: scratchDirectory)
        let kernel = Kernel(version: release, image: bytes, modules: store, origin: path, hasModuleTree: hasModules)
        try KernelCompatibility.checkRequiredDrivers(of: kernel)
        return kernel
    }

    /// The `.ko` files and `modules.builtin` of `/lib/modules/RELEASE` in an image's tree. The
    /// folder itself may sit behind a symlink (usrmerge: /lib -> usr/lib), but inside it only
    /// real folders are entered: a symlink loop in an image must not make this walk (or read)
    /// anything twice.
    static func modules(in tree: FileTree, release: String, spill: SpillFile, scratchDirectory: String) throws -> KernelModules {
        let store = try KernelModules(scratchDirectory: scratchDirectory)
        func walk(_ directory: Directory, _ relative: String, depth: Int) throws {
            guard depth < 16 else { return }
            for name in directory.sortedNames {
                guard let child = directory.children[name]?.inode else { continue }
                let path = relative.isEmpty ? String(decoding: name, as: UTF8.self) : relative + "/" + String(decoding: name, as: UTF8.self)
                switch child.content {
                case .directory(let sub): try walk(sub, path, depth: depth + 1)
                case .regular(let data) where path.hasSuffix(".ko"): try store.add(relativePath: path, bytes: try spill.read(data, limit: 256 << 20))
                default: continue
                }
            }
        }
        if case .directory(let modules)? = tree.resolve("lib/modules/\(release)")?.content { try walk(modules, "", depth: 0) }
        if case .regular(let data)? = tree.resolve("lib/modules/\(release)/modules.builtin")?.content {
            store.builtin = builtinNames(try spill.read(data, limit: 16 << 20))
        }
        return store
    }

    /// The newest `linux-image-*.deb` in `directory` (by name: Debian's versions sort so
    /// within one ABI), or nil when there is none.
    public static func newestPackage(in directory: String) -> String? {
        let packages = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix("linux-image-") && $0.hasSuffix(".deb") }.sorted()
        return packages.last.map { directory + "/" + $0 }
    }

    /// The user's cache folder for `environment` (the caller's; the library reads none):
    /// `${XDG_CACHE_HOME:-$HOME/.cache}/oci2disk`.
    public static func cacheRoot(environment: [String: String]) -> String {
        UserCacheFolder.path(environment: environment)
    }

    /// The default kernel for `environment`: `$OCI2DISK_KERNEL_PACKAGE`, else the newest
    /// package in the cache's `kernels/` (where `fetch-kernel` and scripts/setup put it).
    public static func defaultPackage(environment: [String: String]) -> String? {
        if let path = environment["OCI2DISK_KERNEL_PACKAGE"], !path.isEmpty { return path }
        return newestPackage(in: cacheRoot(environment: environment) + "/kernels")
    }
}
