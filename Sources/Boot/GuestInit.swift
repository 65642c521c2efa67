import Foundation

/// The guest init binary (`oci2disk-init`, PID 1 of every initramfs), as the caller found it:
/// embedded in the command-line binary, or a file (`OCI2DISK_INIT`, a development build).
/// Read only when a disk boots, so data disks never pay for its 8 MB.
public struct GuestInit: Sendable {
    enum Origin: Sendable {
        case bytes([UInt8])
        /// Bytes the caller copies out when asked (the init linked into the binary).
        case loader(@Sendable () -> [UInt8])
        case file(String)
        case missing(lookedIn: [String])
    }

    let origin: Origin

    public static func bytes(_ bytes: [UInt8]) -> GuestInit { GuestInit(origin: .bytes(bytes)) }
    public static func loaded(by loader: @escaping @Sendable () -> [UInt8]) -> GuestInit { GuestInit(origin: .loader(loader)) }
    public static func file(_ path: String) -> GuestInit { GuestInit(origin: .file(path)) }
    /// No init anywhere: a bootable convert fails naming these places; a data disk works.
    public static func missing(lookedIn places: [String]) -> GuestInit { GuestInit(origin: .missing(lookedIn: places)) }

    public func load() throws(BootError) -> [UInt8] {
        switch origin {
        case .bytes(let bytes): return bytes
        case .loader(let load): return load()
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else { throw .guestInit("\(path): cannot read the guest init") }
            return [UInt8](data)
        case .missing(let places):
            throw .guestInit(
                "the guest init (oci2disk-init) is not embedded in this binary and not found (looked in \(places.joined(separator: ", "))): build it with scripts/build-init, or set OCI2DISK_INIT"
            )
        }
    }
}

/// What a bootable disk is built from besides the image: the guest init, the templates and
/// the default kernel package. The command line assembles it (from its embedded copies, the
/// environment and the user's cache folder); the library only uses it.
public struct BootAssets: Sendable {
    public var guestInit: GuestInit
    public var templates: Templates
    /// The kernel a bootable convert uses when none is given and the image has none.
    public var defaultKernelPackage: String?
    /// Where that package is looked for, for the error when there is none.
    public var kernelDirectory: String

    public init(guestInit: GuestInit, templates: Templates, defaultKernelPackage: String?, kernelDirectory: String) {
        self.guestInit = guestInit
        self.templates = templates
        self.defaultKernelPackage = defaultKernelPackage
        self.kernelDirectory = kernelDirectory
    }
}
