import Foundation

/// One challenge from a `WWW-Authenticate` header (RFC 7235): `Bearer realm="…",service="…"`.
public struct AuthChallenge: Equatable, Sendable {
    /// Lower case: `bearer`, `basic`.
    public let scheme: String
    /// Parameter names lower case, values unquoted.
    public let parameters: [String: String]

    public init(scheme: String, parameters: [String: String]) {
        self.scheme = scheme
        self.parameters = parameters
    }

    /// All challenges in a header value. A header may hold several, separated by commas like
    /// the parameters: a name not followed by `=` starts the next challenge.
    public static func parse(_ header: String) -> [AuthChallenge] {
        var scanner = Scanner(Array(header.utf8))
        var result: [AuthChallenge] = []
        while true {
            scanner.skip { $0 == 0x20 || $0 == 0x09 || $0 == 0x2c }
            guard let scheme = scanner.token() else { break }  // the end, or text that is no challenge
            var parameters: [String: String] = [:]
            while true {
                let mark = scanner.position
                scanner.skip { $0 == 0x20 || $0 == 0x09 || $0 == 0x2c }
                guard let name = scanner.token() else { break }
                scanner.skip { $0 == 0x20 || $0 == 0x09 }
                guard scanner.take(0x3d) else {
                    scanner.position = mark  // the next challenge's scheme (or a token68 we ignore)
                    break
                }
                scanner.skip { $0 == 0x20 || $0 == 0x09 }
                parameters[name.lowercased()] = scanner.quoted() ?? scanner.token() ?? ""
            }
            result.append(AuthChallenge(scheme: scheme.lowercased(), parameters: parameters))
        }
        return result
    }

    private struct Scanner {
        let bytes: [UInt8]
        var position = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { position >= bytes.count }

        mutating func skip(while predicate: (UInt8) -> Bool) {
            while position < bytes.count, predicate(bytes[position]) { position += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        /// RFC 7230 tchar run (plus `/` and `=`-free token68 characters a realm never needs).
        mutating func token() -> String? {
            let start = position
            skip { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)
                    || Array("!#$%&'*+-.^_`|~/:".utf8).contains(b)
            }
            return position > start ? String(decoding: bytes[start..<position], as: UTF8.self) : nil
        }

        mutating func quoted() -> String? {
            guard take(0x22) else { return nil }
            var value: [UInt8] = []
            while position < bytes.count {
                let b = bytes[position]
                position += 1
                if b == 0x22 { break }
                if b == 0x5c, position < bytes.count {
                    value.append(bytes[position])
                    position += 1
                } else {
                    value.append(b)
                }
            }
            return String(decoding: value, as: UTF8.self)
        }
    }
}

/// Credentials saved by `docker login`, `podman login` or `skopeo login`: a JSON file whose
/// `auths` map is keyed by registry (`host[:port]`, or a URL such as
/// `https://index.docker.io/v1/`), each with `auth` = base64 of `user:password`.
public enum RegistryAuthFile {
    /// Files searched, as containers-auth.json(5) orders them: `$REGISTRY_AUTH_FILE` alone when
    /// set; else `$XDG_RUNTIME_DIR/containers/auth.json`, `~/.config/containers/auth.json`,
    /// `~/.docker/config.json`. The first file with an entry for the host wins.
    public static func searchPaths(_ environment: [String: String]) -> [String] {
        if let file = environment["REGISTRY_AUTH_FILE"], !file.isEmpty { return [file] }
        let home = RegistryOptions.home(environment)
        var paths: [String] = []
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty { paths.append(runtime + "/containers/auth.json") }
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (home + "/.config")
        paths.append(config + "/containers/auth.json")
        paths.append((environment["DOCKER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? (home + "/.docker")) + "/config.json")
        return paths
    }

    /// The credentials for `host` from the first auth file that has them. A file that exists
    /// but cannot be read or parsed is an error, so a typo does not silently mean anonymous.
    public static func credentials(for host: String, environment: [String: String]) throws(SourceError) -> RegistryCredentials? {
        for path in searchPaths(environment) {
            guard let data = FileManager.default.contents(atPath: path) else {
                if FileManager.default.fileExists(atPath: path) { throw .io(path: path, reason: "cannot read the auth file") }
                continue
            }
            if let found = try credentials(for: host, in: data, path: path) { return found }
        }
        return nil
    }

    /// The entry for `host` in one file's contents.
    public static func credentials(for host: String, in data: Data, path: String) throws(SourceError) -> RegistryCredentials? {
        struct File: Decodable {
            struct Entry: Decodable {
                let auth: String?
                let username: String?
                let password: String?
            }
            let auths: [String: Entry]?
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw .invalidJSON(what: "auth file \(path)", reason: (error as? DecodingError).map(JSONDocument.describe) ?? "\(error)")
        }
        let wanted = normalise(host)
        guard let entry = (file.auths ?? [:]).sorted(by: { $0.key < $1.key }).first(where: { normalise($0.key) == wanted })?.value else {
            return nil
        }
        if let auth = entry.auth, !auth.isEmpty {
            guard let decoded = Data(base64Encoded: auth).map({ String(decoding: $0, as: UTF8.self) }),
                  let credentials = RegistryCredentials(parsing: decoded) else {
                throw .invalid("auth file \(path): the \"auth\" entry for \(host) is not base64 of user:password")
            }
            return credentials
        }
        if let username = entry.username, let password = entry.password { return RegistryCredentials(username: username, password: password) }
        return nil
    }

    /// `https://index.docker.io/v1/` → `docker.io`; `http://host:5000/v2` → `host:5000`.
    static func normalise(_ key: String) -> String {
        var name = Substring(key)
        for scheme in ["https://", "http://"] where name.hasPrefix(scheme) { name = name.dropFirst(scheme.count) }
        if let slash = name.firstIndex(of: "/") { name = name[..<slash] }
        let host = name.lowercased()
        return ["index.docker.io", "registry-1.docker.io"].contains(host) ? RegistryReference.dockerHub : host
    }
}
