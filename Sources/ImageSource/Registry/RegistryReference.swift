import OCIModels

/// An image in a registry, `HOST[:PORT]/REPO[:TAG|@DIGEST]`, with Docker's defaults: no host
/// means `docker.io`, a one-part name on docker.io means `library/NAME`, no tag means `latest`.
/// Grammar: distribution's reference package (`reference/regexp.go`).
public struct RegistryReference: Equatable, Sendable, CustomStringConvertible {
    /// What the name points at: a tag, looked up on every use, or a fixed digest.
    public enum Target: Equatable, Sendable, CustomStringConvertible {
        case tag(String)
        case digest(Digest)

        /// The last part of the manifest URL: `/v2/REPO/manifests/TARGET`.
        public var description: String {
            switch self {
            case .tag(let tag): tag
            case .digest(let digest): digest.description
            }
        }
    }

    /// As written, normalised: `docker.io`, `127.0.0.1:5000`, `registry.example`.
    public let host: String
    public let repository: String
    public let target: Target

    public static let dockerHub = "docker.io"

    public init(host: String, repository: String, target: Target) {
        self.host = host
        self.repository = repository
        self.target = target
    }

    /// Parses the part after `docker://`.
    public init(parsing text: String) throws(SourceError) {
        var rest = Substring(text)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            do {
                digest = try Digest(parsing: String(rest[rest.index(after: at)...]))
            } catch {
                throw .invalidReference(text, problem: "not a valid digest after @")
            }
            rest = rest[..<at]
        }
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
        }
        if digest != nil, tag != nil { throw .invalidReference(text, problem: "give a tag or a digest, not both") }
        var parts = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        // The first part is a host when it looks like one (as docker decides).
        var host = Self.dockerHub
        if parts.count > 1, let first = parts.first, first.contains(".") || first.contains(":") || first == "localhost" {
            host = first
            parts.removeFirst()
        }
        if host == "index.docker.io" || host == "registry-1.docker.io" { host = Self.dockerHub }
        if host == Self.dockerHub && parts.count == 1 { parts.insert("library", at: 0) }
        guard Self.isValidHost(host) else { throw .invalidReference(text, problem: "invalid registry host \"\(host)\"") }
        guard !parts.isEmpty, parts.allSatisfy(Self.isValidComponent) else {
            throw .invalidReference(text, problem: "invalid repository name (lower-case letters, digits and . _ - separated by /)")
        }
        if let tag, !Self.isValidTag(tag) { throw .invalidReference(text, problem: "invalid tag \"\(tag)\"") }
        self.host = host
        self.repository = parts.joined(separator: "/")
        self.target = digest.map(Target.digest) ?? .tag(tag ?? "latest")
    }

    /// Where the API lives: Docker Hub's registry has a different name from its images'.
    public var apiHost: String { host == Self.dockerHub ? "registry-1.docker.io" : host }

    /// `HOST/REPO:TAG` or `HOST/REPO@DIGEST`.
    public var description: String {
        switch target {
        case .tag(let tag): "\(host)/\(repository):\(tag)"
        case .digest(let digest): "\(host)/\(repository)@\(digest)"
        }
    }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`: alphanumerics joined by single separators.
    static func isValidComponent(_ part: String) -> Bool {
        let bytes = Array(part.utf8)
        func alnum(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) }
        guard let first = bytes.first, let last = bytes.last, alnum(first), alnum(last) else { return false }
        var run: [UInt8] = []
        for b in bytes {
            if alnum(b) {
                guard run.isEmpty || run == [0x2e] || run == [0x5f] || run == [0x5f, 0x5f] || run.allSatisfy({ $0 == 0x2d }) else { return false }
                run = []
            } else if b == 0x2e || b == 0x5f || b == 0x2d {
                run.append(b)
            } else {
                return false
            }
        }
        return true
    }

    /// `[\w][\w.-]{0,127}`.
    static func isValidTag(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        func word(_ b: UInt8) -> Bool {
            (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b == 0x5f
        }
        guard let first = bytes.first, word(first), bytes.count <= 128 else { return false }
        return bytes.allSatisfy { word($0) || $0 == 0x2e || $0 == 0x2d }
    }

    /// A DNS name or IPv4 address, or a bracketed IPv6 address, with an optional port.
    static func isValidHost(_ host: String) -> Bool {
        var name = Substring(host)
        if name.hasPrefix("[") {
            guard let close = name.firstIndex(of: "]") else { return false }
            let address = name[name.index(after: name.startIndex)..<close]
            guard !address.isEmpty, address.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
            name = name[name.index(after: close)...]
            if name.isEmpty { return true }
            guard name.hasPrefix(":") else { return false }
            let port = name.dropFirst()
            return !port.isEmpty && port.allSatisfy(\.isASCII) && port.allSatisfy(\.isNumber) && port.count <= 5
        }
        if let colon = name.lastIndex(of: ":") {
            let port = name[name.index(after: colon)...]
            guard !port.isEmpty, port.count <= 5, port.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
            name = name[..<colon]
        }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return !name.isEmpty
            && labels.allSatisfy { label in
                !label.isEmpty && label.first != "-" && label.last != "-"
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            }
    }
}
