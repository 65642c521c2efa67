import Archive
import Flatten
import Foundation
import OCIModels

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
            throw BootError.io("\(modules): not a directory of modules")
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
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read \(what) (permission denied?)" : "no such file (\(what))"
            throw BootError.io("\(path): \(reason)")
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
            store.builtin = builtinNames(try spill.read(data, limit: 16 << 20))
        }
        let origin = "the image's /boot/vmlinuz-\(version)"
        let bytes = try spill.read(file, limit: 256 << 20)
        try KernelCompatibility.checkImage(bytes, origin: origin, platform: platform)
        let kernel = Kernel(version: version, image: bytes, modules: store, origin: origin)
        try KernelCompatibility.checkRequiredDrivers(of: kernel)
        return kernel
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
        defaultCacheRoot() + "/kernels"
    }

    /// Where a kernel package's boot parts are kept between converts (`BootPartsCache`).
    public static func defaultBootPartsDirectory() -> String {
        defaultCacheRoot() + "/boot-parts"
    }

    /// `${XDG_CACHE_HOME:-~/.cache}/oci2disk`.
    public static func defaultCacheRoot() -> String {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.cache")
        return cache + "/oci2disk"
    }

    /// The static init built by `scripts/build-init`: $OCI2DISK_INIT, beside this binary, or in
    /// the source tree's build folder.
    public static func initBinary() throws -> [UInt8] {
        var candidates: [String] = []
        if let path = ProcessInfo.processInfo.environment["OCI2DISK_INIT"], !path.isEmpty { candidates.append(path) }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        candidates.append(executable.appendingPathComponent("oci2disk-init").path)
        candidates.append(
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build-init/oci2disk-init").standardized.path)
        for path in candidates {
            if let bytes = FileManager.default.contents(atPath: path) { return [UInt8](bytes) }
        }
        throw BootError.io("the guest init (oci2disk-init) is missing: run scripts/build-init (looked in \(candidates.joined(separator: ", ")))")
    }
}
