/// Failures writing or reading an ext4 filesystem.
public enum Ext4Error: Error, Equatable, Sendable, CustomStringConvertible {
    /// A libext2fs call failed; `message` is libext2fs' own text.
    case libext2fs(operation: String, message: String)
    /// The filesystem size cannot hold the content.
    case tooSmall(neededBytes: Int64, availableBytes: Int64)
    case deviceNumberTooLarge(path: String)
    /// The tree has more entries than the filesystem has inodes.
    case tooManyInodes(needed: Int, available: Int)
    /// The filesystem is full.
    case noSpace(blocksMissing: UInt64)
    /// A directory tree nested deeper than the reader follows.
    case treeTooDeep(limit: Int)
    case directoryTooLarge(path: String)
    case unsupported(String)

    public var description: String {
        switch self {
        case .libext2fs(let operation, let message): "ext4: \(operation): \(message)"
        case .tooSmall(let needed, let available):
            "size \(Self.mebibytes(available)) is too small: the image needs at least \(Self.mebibytes(needed))"
        case .deviceNumberTooLarge(let path): "\(path): device number does not fit ext4's encoding"
        case .tooManyInodes(let needed, let available): "ext4: \(needed) inodes needed, only \(available) available"
        case .noSpace(let missing): "ext4: no space left for \(missing) more blocks"
        case .treeTooDeep(let limit): "directory tree deeper than \(limit)"
        case .directoryTooLarge(let path): "\(path): directory too large"
        case .unsupported(let what): what
        }
    }

    static func mebibytes(_ bytes: Int64) -> String {
        "\((bytes + (1 << 20) - 1) >> 20) MiB"
    }
}
