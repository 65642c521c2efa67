import Foundation

/// Credentials saved by `docker login`, `podman login` or `skopeo login`: a JSON file whose
/// `auths` map is keyed by registry (`host[:port]`, or a URL such as
/// `https://index.docker.io/v1/`), each with `auth` = base64 of `user:password` (or
/// `identitytoken`), and which may name credential helpers instead: `credHelpers` per
/// registry, `credsStore` for all.
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
            if let found = try credentials(for: host, in: data, path: path, environment: environment) { return found }
        }
        return nil
    }

    /// What one file holds for `host`: its helper for that registry (`credHelpers`), else its
    /// own entry (`auths`), else its helper for every registry (`credsStore`). Docker writes
    /// empty `auths` entries when a store holds the secret, so an entry with credentials means
    /// none was used. Helpers find their executables on `environment`'s PATH.
    public static func credentials(
        for host: String, in data: Data, path: String,
        environment: [String: String] = [:]
    ) throws(SourceError) -> RegistryCredentials? {
        struct File: Decodable {
            struct Entry: Decodable {
                let auth: String?
                let username: String?
                let password: String?
                let identitytoken: String?
            }
            let auths: [String: Entry]?
            let credHelpers: [String: String]?
            let credsStore: String?
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw .invalidJSON(what: "auth file \(path)", reason: (error as? DecodingError).map(JSONDocument.describe) ?? "\(error)")
        }
        let wanted = normalise(host)
        if let helper = (file.credHelpers ?? [:]).sorted(by: { $0.key < $1.key }).first(where: { normalise($0.key) == wanted })?.value {
            return try CredentialHelper(name: helper, configuredIn: path).credentials(for: host, environment: environment)
        }
        if let entry = (file.auths ?? [:]).sorted(by: { $0.key < $1.key }).first(where: { normalise($0.key) == wanted })?.value,
            let credentials = try credentials(in: entry.auth, entry.username, entry.password, entry.identitytoken, host: host, path: path)
        {
            return credentials
        }
        if let store = file.credsStore, !store.isEmpty {
            return try CredentialHelper(name: store, configuredIn: path).credentials(for: host, environment: environment)
        }
        return nil
    }

    private static func credentials(
        in auth: String?, _ username: String?, _ password: String?, _ identityToken: String?,
        host: String, path: String
    ) throws(SourceError) -> RegistryCredentials? {
        if let identityToken, !identityToken.isEmpty {
            return RegistryCredentials(username: RegistryCredentials.identityTokenUser, password: identityToken)
        }
        if let auth, !auth.isEmpty {
            guard let decoded = Data(base64Encoded: auth).map({ String(decoding: $0, as: UTF8.self) }),
                let credentials = RegistryCredentials(parsing: decoded)
            else {
                throw .authFile(path: path, problem: "the \"auth\" entry for \(host) is not base64 of user:password")
            }
            return credentials
        }
        if let username, let password { return RegistryCredentials(username: username, password: password) }
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
