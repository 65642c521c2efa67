import ImagePipeline
/// The summary `convert --json` prints.
public struct ConvertResult: Codable, Sendable, Equatable {
    public var output: String
    public var format: String
    /// Output file size in bytes (apparent; raw files are sparse).
    public var size: Int64
    /// Size of the disk the guest sees.
    public var virtualSize: Int64
    public var manifest: String
    public var platform: String
    public var layers: Int
    /// Inodes in the root filesystem (files, directories, links, devices).
    public var files: Int
    public var directories: Int
    public var filesystemUUID: String
    public var filesystemBytes: Int64
    public var usedBytes: Int64
    /// How the disk boots; absent for data disks and bare filesystems.
    public var boot: Boot?
    public var seconds: Double

    public struct Boot: Codable, Sendable, Equatable {
        public var mode: String
        public var kernel: String
        public var partitionBytes: Int64
    }
}

/// Stages `convert` reports while it runs.
public enum ConvertEvent: Sendable {
    case resolved(manifest: String, platform: String, layers: Int)
    /// A layer started or finished (the pipeline's own report, passed on).
    case layer(FlattenEvent)
    /// `entries`: the tree's, its root folder among them.
    case writingFilesystem(bytes: Int64, entries: Int)
    /// A step finished, and how long it took.
    case step(ConvertStep, seconds: Double)
    /// Something the user should know; the conversion goes on.
    case warning(String)
    case finished(ConvertResult)
}

/// The steps of `convert` after the layers, in order; each reported once it is done.
public enum ConvertStep: Sendable, Equatable {
    /// The kernel chosen and the initramfs built.
    case bootFiles(mode: String, kernel: String)
    /// The root filesystem written: its inodes, the bytes it uses of its size, its UUID.
    case filesystem(entries: Int, usedBytes: Int64, filesystemBytes: Int64, uuid: String)
    /// The partition table, and the boot partition (SYSLINUX, kernel, initramfs) and the
    /// cloud-init seed when the disk has them.
    case partitions(boot: Bool, seed: Bool)
    /// The disk packed into its output format (qcow2's tables, or `qemu-img convert`).
    case format(String)
    /// The KubeVirt containerDisk image written into its layout.
    case containerDisk(String)
}
