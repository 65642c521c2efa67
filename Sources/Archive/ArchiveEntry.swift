/// One tar header, copied out of libarchive into plain Swift values.
/// Names are raw bytes: a layer may hold any byte but `/` and NUL in a name.
public struct ArchiveEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case regular, directory, symlink, hardlink, characterDevice, blockDevice, fifo, socket
    }

    public var path: [UInt8]
    public var kind: Kind
    /// Permission bits including setuid, setgid and sticky (no file type bits).
    public var permissions: UInt16
    public var uid: Int64
    public var gid: Int64
    public var size: Int64
    /// Modification time; seconds may be negative (before 1970).
    public var mtimeSeconds: Int64
    public var mtimeNanoseconds: Int32
    /// Target of a symlink or a hard link.
    public var linkTarget: [UInt8]
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32
    /// Extended attributes in archive order (names like `security.capability`).
    public var xattrs: [Xattr]

    public init(
        path: [UInt8], kind: Kind, permissions: UInt16 = 0o644, uid: Int64 = 0, gid: Int64 = 0, size: Int64 = 0,
        mtimeSeconds: Int64 = 0, mtimeNanoseconds: Int32 = 0, linkTarget: [UInt8] = [],
        deviceMajor: UInt32 = 0, deviceMinor: UInt32 = 0, xattrs: [Xattr] = []
    ) {
        self.path = path
        self.kind = kind
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
        self.size = size
        self.mtimeSeconds = mtimeSeconds
        self.mtimeNanoseconds = mtimeNanoseconds
        self.linkTarget = linkTarget
        self.deviceMajor = deviceMajor
        self.deviceMinor = deviceMinor
        self.xattrs = xattrs
    }

    /// The path as text for messages (invalid UTF-8 shown with replacement characters).
    public var displayPath: String { String(decoding: path, as: UTF8.self) }
}

/// An extended attribute: a name and its raw value.
public struct Xattr: Sendable, Equatable, Hashable {
    public var name: String
    public var value: [UInt8]
    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }
}
