import GuestContract
import Boot
import Disk
import ImageSource
import OCIModels
import Provision

/// Everything `convert` is asked to do.
public struct ConvertOptions: Sendable {
    public enum Size: Sendable, Equatable {
        /// Content plus headroom.
        case auto
        /// The whole output file, partition table included.
        case bytes(Int64)
    }

    public enum Format: String, Sendable, CaseIterable {
        /// MBR partition table, root filesystem at 1 MiB; sparse.
        case raw
        /// The same disk as qcow2, written natively (only non-zero clusters stored).
        case qcow2
        /// The bare filesystem (what Firecracker and cloud-hypervisor take).
        case ext4
        /// The same disk for other hypervisors, through `qemu-img convert`.
        case vmdk, vhdx, vdi

        /// Everything but the bare filesystem is a partitioned disk.
        public var isPartitioned: Bool { self != .ext4 }

        /// `disk.qcow2` → qcow2, and so on; raw for anything else.
        public static func from(path: String) -> Format {
            let name = path.split(separator: "/").last.map(String.init) ?? path
            guard let dot = name.lastIndex(of: "."), let format = Format(rawValue: name[name.index(after: dot)...].lowercased()) else { return .raw }
            return format
        }
    }

    public var source: SourceReference
    public var output: String
    public var platform: Platform = .linuxAMD64
    public var size: Size = .auto
    /// Headroom added to `auto` sizes; nil: 25% of the content or 256 MiB, whichever is larger.
    public var extraSpace: Int64?
    public var format: Format = .raw
    public var label = "root"
    /// Filesystem UUID; nil: derived from the image, so output is reproducible.
    public var filesystemUUID: [UInt8]?
    /// SOURCE_DATE_EPOCH: times for the filesystem and implied directories.
    public var sourceDateEpoch: Int64?
    /// Credentials, TLS and blob cache for `docker://` sources.
    public var registry = RegistryOptions()

    /// Also write the disk as a KubeVirt containerDisk into this OCI layout (`oci:DIR[:TAG]`).
    public var containerDisk: String?

    /// Kernel, init and bootloader; `.none` kernel writes a data disk with the root only.
    public var boot = BootOptions()

    /// Root's password, SSH keys, a login user: added to the image's account files.
    public var login = LoginOptions()

    /// A folder with `user-data` and `meta-data` (and maybe `network-config`, `vendor-data`):
    /// written as a cloud-init NoCloud seed, a FAT partition labelled CIDATA.
    public var cloudInit: String?

    public init(source: SourceReference, output: String) {
        self.source = source
        self.output = output
    }

    /// Where the root filesystem starts in a raw disk: 1 MiB, aligned for any storage.
    public static let partitionOffset: Int64 = 1 << 20
}

/// How the disk boots.
public struct BootOptions: Sendable {
    public enum Kernel: Sendable, Equatable {
        /// No kernel, no bootloader: the disk holds the root filesystem only.
        case none
        /// The image's own kernel in system mode, else the package `scripts/setup` downloads.
        case automatic
        /// A Debian/Ubuntu `linux-image-*.deb`.
        case package(String)
        /// A kernel image and, optionally, its `/lib/modules/VERSION` folder.
        case files(kernel: String, modules: String?)
        /// A container image holding a kernel and its modules (`KernelImage`), any transport.
        case image(SourceReference)
    }

    public var kernel: Kernel = .automatic
    /// nil: system mode when the image has an init system and a kernel, app mode otherwise.
    public var mode: InitConfig.Mode?
    public var overrides = RunOverrides()
    /// Added to the kernel command line.
    public var append = ""
    /// Grow the root partition and filesystem to the disk's end at each boot (a no-op once grown).
    public var growRoot = false
    /// Where a kernel package's boot parts are kept between converts (`BootPartsCache`); nil: not kept.
    public var partsCache: String?
    /// The guest init, templates and default kernel (the command line supplies them).
    public var assets = BootAssets(
        guestInit: .missing(lookedIn: ["(none given to the library)"]), templates: Templates(texts: [:], origin: "none given"),
        defaultKernelPackage: nil, kernelDirectory: "(none)")

    public init() {}
}
