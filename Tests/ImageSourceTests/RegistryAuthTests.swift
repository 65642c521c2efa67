import Foundation
import ImageSource
import Testing

@Suite struct AuthChallengeTests {
    @Test func parsesDockerHubsBearerChallenge() {
        let header = #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#
        #expect(AuthChallenge.parse(header) == [AuthChallenge(scheme: "bearer", parameters: [
            "realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:library/busybox:pull",
        ])])
    }

    @Test func parsesBasicAndUnquotedAndEscapedValues() {
        #expect(AuthChallenge.parse(#"Basic realm="basic-realm""#) == [AuthChallenge(scheme: "basic", parameters: ["realm": "basic-realm"])])
        #expect(AuthChallenge.parse(#"BEARER Realm=http://127.0.0.1:9/token , Service = "a \"quoted\" name""#)
                == [AuthChallenge(scheme: "bearer", parameters: ["realm": "http://127.0.0.1:9/token", "service": #"a "quoted" name"#])])
    }

    @Test func splitsSeveralChallengesInOneHeader() {
        let header = #"Basic realm="r1", Bearer realm="https://t.example/token",scope="repository:a,b:pull", Negotiate"#
        #expect(AuthChallenge.parse(header) == [
            AuthChallenge(scheme: "basic", parameters: ["realm": "r1"]),
            AuthChallenge(scheme: "bearer", parameters: ["realm": "https://t.example/token", "scope": "repository:a,b:pull"]),
            AuthChallenge(scheme: "negotiate", parameters: [:]),
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
            "127.0.0.1:5001": ["auth": Self.base64("bob:other")],
        ])
        #expect(try RegistryAuthFile.credentials(for: "127.0.0.1:5000", in: data, path: "f")
                == RegistryCredentials(username: "alice", password: "s3:cret"))
        #expect(try RegistryAuthFile.credentials(for: "127.0.0.1", in: data, path: "f") == nil)
    }

    @Test func matchesURLKeysAndDockerHubsLegacyName() throws {
        let data = Self.file([
            "https://index.docker.io/v1/": ["auth": Self.base64("hub:pw")],
            "http://registry.example:8080/v2/": ["username": "u", "password": "p"],
        ])
        #expect(try RegistryAuthFile.credentials(for: "docker.io", in: data, path: "f") == RegistryCredentials(username: "hub", password: "pw"))
        #expect(try RegistryAuthFile.credentials(for: "registry.example:8080", in: data, path: "f")
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
        #expect(RegistryAuthFile.searchPaths(["HOME": "/h", "XDG_RUNTIME_DIR": "/run/user/1"])
                == ["/run/user/1/containers/auth.json", "/h/.config/containers/auth.json", "/h/.docker/config.json"])
    }

    @Test func readsTheFileNamedByRegistryAuthFile() throws {
        let path = NSTemporaryDirectory() + "/oci2disk-auth-\(getpid()).json"
        defer { unlink(path) }
        _ = FileManager.default.createFile(atPath: path, contents: Self.file(["h:1": ["auth": Self.base64("a:b")]]))
        #expect(try RegistryAuthFile.credentials(for: "h:1", environment: ["REGISTRY_AUTH_FILE": path])
                == RegistryCredentials(username: "a", password: "b"))
        #expect(try RegistryAuthFile.credentials(for: "h:1", environment: ["REGISTRY_AUTH_FILE": path + ".missing", "HOME": "/nonexistent"]) == nil)
    }
}
