// A content digest, `algorithm:hex`, validated before it is ever used to form a path.
// Spec: https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests

/// A validated OCI content digest (sha256 or sha512, lowercase hex of the right length).
public struct Digest: Hashable, Sendable, CustomStringConvertible, Codable {
    public enum Algorithm: String, Sendable, Codable {
        case sha256, sha512
        /// Length of the hex-encoded digest.
        public var hexLength: Int { self == .sha256 ? 64 : 128 }
    }

    public let algorithm: Algorithm
    public let hex: String

    /// Parses `algorithm:hex`; anything else (unknown algorithm, upper case, wrong length,
    /// path characters) is rejected, so a digest can safely name a file under `blobs/`.
    public init(parsing text: String) throws(OCIError) {
        guard let colon = text.firstIndex(of: ":") else { throw .invalidDigest(text) }
        guard let algorithm = Algorithm(rawValue: String(text[..<colon])) else { throw .invalidDigest(text) }
        let hex = text[text.index(after: colon)...]
        guard hex.utf8.count == algorithm.hexLength,
            hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else { throw .invalidDigest(text) }
        self.algorithm = algorithm
        self.hex = String(hex)
    }

    public init(algorithm: Algorithm, hex: String) throws(OCIError) {
        try self.init(parsing: "\(algorithm.rawValue):\(hex)")
    }

    public var description: String { "\(algorithm.rawValue):\(hex)" }

    /// Relative path of the blob inside an OCI image layout.
    public var layoutPath: String { "blobs/\(algorithm.rawValue)/\(hex)" }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = try Digest(parsing: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
