import Boot
import CEmbeddedAssets
import Convert
import Foundation

/// What the commands take from the host: the guest init and templates (embedded in this
/// binary, or overridden for development), the user's cache folder and its default kernel.
/// The one place that reads these environment variables; the libraries get values.
enum HostAssets {
    /// `${XDG_CACHE_HOME:-~/.cache}/oci2disk`.
    static var cacheRoot: String { KernelSources.cacheRoot(environment: ProcessInfo.processInfo.environment) }

    static var kernelDirectory: String { cacheRoot + "/kernels" }
    static var bootPartsDirectory: String { cacheRoot + "/boot-parts" }

    /// $OCI2DISK_KERNEL_PACKAGE, else the newest `linux-image-*.deb` in the kernel folder.
    static var defaultKernelPackage: String? { KernelSources.defaultPackage(environment: ProcessInfo.processInfo.environment) }

    /// What every bootable convert starts from: the boot-parts cache and these assets.
    static func bootOptions() -> BootOptions {
        var options = BootOptions()
        options.partsCache = bootPartsDirectory
        options.assets = bootAssets()
        return options
    }

    static func bootAssets() -> BootAssets {
        BootAssets(guestInit: guestInit(), templates: templates(), defaultKernelPackage: defaultKernelPackage, kernelDirectory: kernelDirectory)
    }

    /// $OCI2DISK_INIT, else the init embedded at build time, else (a development build made
    /// before scripts/build-init) one beside this binary or in the source tree's build folder.
    static func guestInit() -> GuestInit {
        if let path = ProcessInfo.processInfo.environment["OCI2DISK_INIT"], !path.isEmpty { return .file(path) }
        // Copied out of the binary only when a disk boots: data disks never pay for it.
        if hasEmbeddedInit { return .loaded { embeddedInit ?? [] } }
        let places = [executableDirectory + "/oci2disk-init", sourceTree + "/.build-init/oci2disk-init"]
        if let found = places.first(where: { FileManager.default.isReadableFile(atPath: $0) }) { return .file(found) }
        return .missing(lookedIn: ["OCI2DISK_INIT", "this binary"] + places)
    }

    /// $OCI2DISK_TEMPLATES (a folder), else the embedded copies, else `share/oci2disk/templates`
    /// beside the binary or the source tree's `templates/`. Nothing found is an error only when
    /// a template is used (data disks need none).
    static func templates() -> Templates {
        if let folder = ProcessInfo.processInfo.environment["OCI2DISK_TEMPLATES"], !folder.isEmpty {
            return (try? Templates.folder(folder)) ?? Templates(texts: [:], origin: "OCI2DISK_TEMPLATES=\(folder), which lacks some")
        }
        if let embedded = embeddedTemplates { return embedded }
        let folders = [executableDirectory + "/../share/oci2disk/templates", sourceTree + "/templates"]
        for folder in folders { if let found = try? Templates.folder(folder) { return found } }
        return Templates(texts: [:], origin: "none embedded; looked in \(folders.joined(separator: ", "))")
    }

    static var hasEmbeddedInit: Bool {
        var size = 0
        return oci2disk_embedded_init(&size) != nil && size > 0
    }

    static var embeddedInit: [UInt8]? {
        var size = 0
        guard let start = oci2disk_embedded_init(&size), size > 0 else { return nil }
        return Array(UnsafeBufferPointer(start: start, count: size))
    }

    static var embeddedTemplates: Templates? {
        var texts: [String: String] = [:]
        for name in Templates.names {
            var size = 0
            guard let start = oci2disk_embedded_template(name, &size) else { return nil }
            texts[name] = String(decoding: UnsafeBufferPointer(start: start, count: size), as: UTF8.self)
        }
        return Templates(texts: texts, origin: "embedded")
    }

    /// `oci2disk --version`: the build's version and what it carries.
    static var versionText: String {
        let version = String(cString: oci2disk_embedded_version())
        var size = 0
        _ = oci2disk_embedded_init(&size)
        let initLine =
            hasEmbeddedInit
            ? "init: embedded, \(size) bytes, sha256:\(String(cString: oci2disk_embedded_init_sha256()))"
            : "init: not embedded (built without scripts/build-init; OCI2DISK_INIT or .build-init/oci2disk-init is used)"
        let templatesLine = embeddedTemplates != nil ? "templates: embedded" : "templates: not embedded"
        return "oci2disk \(version.isEmpty ? "unknown" : version)\n\(initLine)\n\(templatesLine)"
    }

    private static var executableDirectory: String {
        URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent().path
    }

    /// The checkout this binary was built from: for development builds only.
    private static var sourceTree: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
    }
}
