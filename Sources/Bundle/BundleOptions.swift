import ImagePipeline
import ImageSource
import OCIModels

/// Everything `bundle` is asked to do.
public struct BundleOptions: Sendable {
    public var source: SourceReference
    /// The bundle folder to create.
    public var output: String
    public var platform: Platform = .linuxAMD64
    /// Replace an existing non-empty output folder.
    public var force = false
    /// For an unprivileged user: no chown, no device files, a user namespace in config.json.
    public var rootless = false
    public var overrides = RunOverrides()
    /// SOURCE_DATE_EPOCH: the time of directories no layer lists.
    public var sourceDateEpoch: Int64?
    /// Credentials, TLS and blob cache for `docker://` sources.
    public var registry = RegistryOptions()

    public init(source: SourceReference, output: String) {
        self.source = source
        self.output = output
    }
}

/// The summary `bundle --json` prints.
public struct BundleResult: Codable, Sendable, Equatable {
    public var output: String
    public var manifest: String
    public var platform: String
    public var layers: Int
    public var rootless: Bool
    /// Names written under rootfs/ (hard links counted once per name), and folders.
    public var files: Int
    public var directories: Int
    public var dataBytes: Int64
    /// What the bundle lacks or a runtime needs to know (devices skipped, no command, …).
    public var notes: [String]
    public var seconds: Double
}

/// Stages `bundle` reports while it runs.
public enum BundleEvent: Sendable {
    case resolved(manifest: String, platform: String, layers: Int)
    /// A layer started or finished (the pipeline's own report, passed on).
    case layer(FlattenEvent)
    case writingRootfs
    case finished(BundleResult)
}
