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
    /// Something the user should know; the conversion goes on.
    case warning(String)
    case finished(ConvertResult)
}
