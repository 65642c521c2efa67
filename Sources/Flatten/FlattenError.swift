import SystemBase
/// A layer that breaks the rules. Each case names the layer entry at fault.
public enum FlattenError: Error, Equatable, Sendable, CustomStringConvertible {
    case absolutePath(String)
    /// A system call on the spill file failed (the errno is in it).
    case system(SystemError)
    case parentReference(String)
    case nameTooLong(String)
    case rootNotDirectory(String)
    case hardLinkTargetMissing(entry: String, target: String)
    case hardLinkToDirectory(entry: String, target: String)
    case symlinkLoop(String)
    case symlinkTooLong(String)
    case idOutOfRange(String)
    case invalidWhiteout(String)
    case pathTooLong(String)
    /// Its parents, with the symlinks among them followed, make a path longer than PATH_MAX.
    case resolvedPathTooLong(String)
    case fileTooLarge(String)
    case dataOutOfOrder(String)
    /// A file asked for in memory (an account file, a kernel) that is larger than the caller allows.
    case tooLargeToRead(bytes: Int64, limit: Int64)

    public var description: String {
        switch self {
        case .system(let error): error.description
        case .absolutePath(let p): "entry \"\(p)\": absolute path"
        case .parentReference(let p): "entry \"\(p)\": path contains \"..\""
        case .nameTooLong(let p): "entry \"\(p)\": a name is longer than 255 bytes"
        case .rootNotDirectory(let p): "entry \"\(p)\": replaces / with a non-directory"
        case .hardLinkTargetMissing(let e, let t): "entry \"\(e)\": hard link to missing \"\(t)\""
        case .hardLinkToDirectory(let e, let t): "entry \"\(e)\": hard link to directory \"\(t)\""
        case .symlinkLoop(let p): "entry \"\(p)\": too many levels of symbolic links"
        case .symlinkTooLong(let p): "entry \"\(p)\": symlink target longer than 4095 bytes"
        case .idOutOfRange(let p): "entry \"\(p)\": uid or gid does not fit in 32 bits"
        case .invalidWhiteout(let p): "entry \"\(p)\": invalid whiteout"
        case .resolvedPathTooLong(let p):
            "entry \"\(p.prefix(80))\(p.count > 80 ? "…" : "")\": its parent folders, symlinks followed, make a path longer than \(EntryPath.maxPathLength) bytes"
        case .pathTooLong(let p): "entry \"\(p.prefix(80))…\": path longer than \(EntryPath.maxPathLength) bytes"
        case .fileTooLarge(let p): "entry \"\(p)\": size does not fit an ext4 file (16 TiB)"
        case .dataOutOfOrder(let p): "entry \"\(p)\": sparse data map out of order"
        case .tooLargeToRead(let bytes, let limit): "a \(bytes)-byte file is too large to read into memory (the limit is \(limit) bytes)"
        }
    }
}

/// An error inside a layer, with the layer named.
public struct LayerError: Error, Equatable, Sendable, CustomStringConvertible {
    public let layer: String
    public let reason: String
    public var description: String { "\(layer): \(reason)" }

    public init(layer: String, reason: String) {
        self.layer = layer
        self.reason = reason
    }
}
