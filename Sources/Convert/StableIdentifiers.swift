import ImageSource
import OCIModels

/// Identifiers that would be random in mke2fs, derived from the image instead, so the same
/// image and options always give the same disk.
public struct StableIdentifiers {
    let filesystemUUID: [UInt8]
    let hashSeed: [UInt8]
    let diskIdentifier: UInt32

    init(identity: Digest, label: String) {
        filesystemUUID = Self.uuid(Self.derive(identity, "filesystem-uuid:\(label)"))
        hashSeed = Self.uuid(Self.derive(identity, "hash-seed"))
        let bytes = Self.derive(identity, "disk-identifier")
        diskIdentifier = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
    }

    /// A FAT volume serial: the filesystem UUID's first four bytes.
    var volumeSerial: UInt32 { filesystemUUID.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }

    /// 16 salt bytes for a password hash: fixed for the same image and password (the disk is
    /// reproducible), different for another image or password.
    static func passwordSalt(identity: Digest, password: String) -> [UInt8] {
        var hasher = ContentHasher(.sha256)
        Array(password.utf8).withUnsafeBytes { hasher.update($0) }
        return Array(derive(identity, "password-salt:\(hasher.finalize().hex)").prefix(16))
    }

    private static func derive(_ identity: Digest, _ purpose: String) -> [UInt8] {
        var hasher = ContentHasher(.sha256)
        Array("oci2disk:\(purpose):\(identity)".utf8).withUnsafeBytes { hasher.update($0) }
        let hex = Array(hasher.finalize().hex.utf8)
        return stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0..<($0 + 2)], as: UTF8.self), radix: 16)! }
    }

    /// Marks 16 bytes as an RFC 4122 version-4-style UUID (tools expect valid UUIDs).
    private static func uuid(_ bytes: [UInt8]) -> [UInt8] {
        var uuid = Array(bytes.prefix(16))
        uuid[6] = (uuid[6] & 0x0F) | 0x40
        uuid[8] = (uuid[8] & 0x3F) | 0x80
        return uuid
    }

    static func format(_ uuid: [UInt8]) -> String {
        let hex = uuid.map { String($0, radix: 16).leftPadded(2) }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(separator: "-")
    }

    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
    public static func parse(_ text: String) -> [UInt8]? {
        let hex = Array(text.lowercased().filter { $0 != "-" }.utf8)
        guard hex.count == 32, text.count == 36 else { return nil }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: 32, by: 2) {
            guard let byte = UInt8(String(decoding: hex[i..<(i + 2)], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
