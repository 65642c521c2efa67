import Foundation
import ImageSource
import Testing

@Suite struct AuthChallengeTests {
    @Test func parsesDockerHubsBearerChallenge() {
        let header = #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#
        #expect(
            AuthChallenge.parse(header) == [
                AuthChallenge(
                    scheme: "bearer",
                    parameters: [
                        "realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:library/busybox:pull"
                    ])
            ])
    }

    @Test func parsesBasicAndUnquotedAndEscapedValues() {
        #expect(AuthChallenge.parse(#"Basic realm="basic-realm""#) == [AuthChallenge(scheme: "basic", parameters: ["realm": "basic-realm"])])
        #expect(
            AuthChallenge.parse(#"BEARER Realm=http://127.0.0.1:9/token , Service = "a \"quoted\" name""#)
                == [AuthChallenge(scheme: "bearer", parameters: ["realm": "http://127.0.0.1:9/token", "service": #"a "quoted" name"#])])
    }

    @Test func splitsSeveralChallengesInOneHeader() {
        let header = #"Basic realm="r1", Bearer realm="https://t.example/token",scope="repository:a,b:pull", Negotiate"#
        #expect(
            AuthChallenge.parse(header) == [
                AuthChallenge(scheme: "basic", parameters: ["realm": "r1"]),
                AuthChallenge(scheme: "bearer", parameters: ["realm": "https://t.example/token", "scope": "repository:a,b:pull"]),
                AuthChallenge(scheme: "negotiate", parameters: [:])
            ])
    }

    @Test(arguments: ["", "   ", ",,", "=", "\"quoted\""])
    func emptyOrJunkHeadersGiveNoChallenge(header: String) {
        #expect(AuthChallenge.parse(header) == [])
    }
}

@Suite struct RegistryAuthFileTests {
    static func file(_ auths: [String: [String: String]]) -> Data {
        try! JSONSerialization.data(withJSONObject: ["auths": auths])
    }

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    @Test func findsTheEntryByHostAndPort() throws {
        let data = Self.file([
            "127.0.0.1:5000": ["auth": Self.base64("alice:s3:cret")],
            "127.0.0.1:5001": ["auth": Self.base64("bob:other")]
        ])
        #expect(
            try RegistryAuthFile.credentials(for: "127.0.0.1:5000", in: data, path: "f")
                == RegistryCredentials(username: "alice", password: "s3:cret"))
        #expect(try RegistryAuthFile.credentials(for: "127.0.0.1", in: data, path: "f") == nil)
    }

    @Test func matchesURLKeysAndDockerHubsLegacyName() throws {
        let data = Self.file([
            "https://index.docker.io/v1/": ["auth": Self.base64("hub:pw")],
            "http://registry.example:8080/v2/": ["username": "u", "password": "p"]
        ])
        #expect(try RegistryAuthFile.credentials(for: "docker.io", in: data, path: "f") == RegistryCredentials(username: "hub", password: "pw"))
        #expect(
            try RegistryAuthFile.credentials(for: "registry.example:8080", in: data, path: "f")
                == RegistryCredentials(username: "u", password: "p"))
    }

    @Test func rejectsBrokenFiles() {
        #expect(throws: SourceError.self) { try RegistryAuthFile.credentials(for: "h", in: Data("{".utf8), path: "f") }
        #expect(throws: SourceError.self) {
            try RegistryAuthFile.credentials(for: "h", in: Self.file(["h": ["auth": "!!notbase64"]]), path: "f")
        }
        #expect(throws: SourceError.self) {
            try RegistryAuthFile.credentials(for: "h", in: Self.file(["h": ["auth": Self.base64("nocolon")]]), path: "f")
        }
    }

    @Test func searchOrderFollowsContainersAuthJSON() {
        #expect(RegistryAuthFile.searchPaths(["REGISTRY_AUTH_FILE": "/x/auth.json", "HOME": "/h"]) == ["/x/auth.json"])
        #expect(
            RegistryAuthFile.searchPaths(["HOME": "/h", "XDG_RUNTIME_DIR": "/run/user/1"])
                == ["/run/user/1/containers/auth.json", "/h/.config/containers/auth.json", "/h/.docker/config.json"])
    }

    @Test func readsTheFileNamedByRegistryAuthFile() throws {
        let path = NSTemporaryDirectory() + "/oci2disk-auth-\(getpid()).json"
        defer { unlink(path) }
        _ = FileManager.default.createFile(atPath: path, contents: Self.file(["h:1": ["auth": Self.base64("a:b")]]))
        #expect(
            try RegistryAuthFile.credentials(for: "h:1", environment: ["REGISTRY_AUTH_FILE": path])
                == RegistryCredentials(username: "a", password: "b"))
        #expect(try RegistryAuthFile.credentials(for: "h:1", environment: ["REGISTRY_AUTH_FILE": path + ".missing", "HOME": "/nonexistent"]) == nil)
    }
}

/// Credential helpers named by an auth file, run for real: a `docker-credential-fake` script
/// on PATH that answers as the helpers of docker/docker-credential-helpers do.
@Suite struct CredentialHelperTests {
    /// A folder with `docker-credential-fake` (knows `h:1`, `docker.io` and an identity token for
    /// `tok:1`; says "not found" otherwise) and `docker-credential-broken` (fails).
    static func helpers() throws -> String {
        let directory = NSTemporaryDirectory() + "oci2disk-helpers-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fake = """
            #!/bin/sh
            [ "$1" = get ] || exit 3
            read server
            case "$server" in
              h:1) echo '{"ServerURL":"h:1","Username":"alice","Secret":"s3:cret"}' ;;
              https://index.docker.io/v1/) echo '{"ServerURL":"hub","Username":"hubuser","Secret":"hubpw"}' ;;
              tok:1) echo '{"ServerURL":"tok:1","Username":"<token>","Secret":"refresh-123"}' ;;
              *) echo "credentials not found in native keychain"; exit 1 ;;
            esac
            """
        let broken = "#!/bin/sh\necho 'cannot reach the keyring: boom' >&2\nexit 2\n"
        for (name, text) in [("fake", fake), ("broken", broken)] {
            let path = "\(directory)/docker-credential-\(name)"
            #expect(FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o755]))
        }
        return directory
    }

    static func file(_ object: [String: Any]) -> Data { try! JSONSerialization.data(withJSONObject: object) }

    @Test func credHelpersPerRegistryThenAuthsThenCredsStore() throws {
        let directory = try Self.helpers()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let environment = ["PATH": directory + ":/usr/bin:/bin"]
        let data = Self.file([
            "credHelpers": ["h:1": "fake", "docker.io": "fake"],
            "auths": ["h:2": ["auth": RegistryAuthFileTests.base64("bob:pw")], "tok:1": [:] as [String: String]],
            "credsStore": "fake"
        ])
        func lookup(_ host: String) throws -> RegistryCredentials? {
            try RegistryAuthFile.credentials(for: host, in: data, path: "f", environment: environment)
        }
        #expect(try lookup("h:1") == RegistryCredentials(username: "alice", password: "s3:cret"))
        #expect(try lookup("docker.io") == RegistryCredentials(username: "hubuser", password: "hubpw"))
        #expect(try lookup("h:2") == RegistryCredentials(username: "bob", password: "pw"))  // its own entry
        #expect(try lookup("tok:1") == RegistryCredentials(username: "<token>", password: "refresh-123"))  // an empty entry: the store
        #expect(try lookup("other:9") == nil)  // the store has nothing: anonymous
    }

    @Test func aMissingOrFailingHelperIsAnErrorNamingIt() throws {
        let directory = try Self.helpers()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let environment = ["PATH": directory]
        func message(_ helper: String) -> String {
            do {
                _ = try RegistryAuthFile.credentials(
                    for: "h:1", in: Self.file(["credHelpers": ["h:1": helper]]), path: "cfg.json",
                    environment: environment)
                return "no error"
            } catch {
                return error.description
            }
        }
        #expect(message("absent").contains("docker-credential-absent (named in cfg.json) is not installed"))
        #expect(message("broken").contains("docker-credential-broken failed: cannot reach the keyring: boom"))
        #expect(message("../fake").contains("invalid credential helper name"))
    }

    @Test func identityTokensInAuthsEntries() throws {
        let data = Self.file(["auths": ["h:1": ["auth": RegistryAuthFileTests.base64("u:"), "identitytoken": "rt-9"]]])
        #expect(try RegistryAuthFile.credentials(for: "h:1", in: data, path: "f") == RegistryCredentials(username: "<token>", password: "rt-9"))
    }
}
