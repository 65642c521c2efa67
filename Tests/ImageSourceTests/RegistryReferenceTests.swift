import ImageSource
import OCIModels
import Testing

@Suite struct RegistryReferenceTests {
    static let hex = String(repeating: "ab", count: 32)

    @Test(arguments: [
        ("127.0.0.1:5000/repo:tag", "127.0.0.1:5000", "repo", "tag"),
        ("127.0.0.1:5000/repo", "127.0.0.1:5000", "repo", "latest"),
        ("localhost/a/b/c:v1.2-rc_3", "localhost", "a/b/c", "v1.2-rc_3"),
        ("registry.example/team/app", "registry.example", "team/app", "latest"),
        ("busybox", "docker.io", "library/busybox", "latest"),
        ("busybox:1.36", "docker.io", "library/busybox", "1.36"),
        ("team/app:v1", "docker.io", "team/app", "v1"),
        ("docker.io/busybox", "docker.io", "library/busybox", "latest"),
        ("index.docker.io/library/busybox", "docker.io", "library/busybox", "latest"),
        ("[::1]:5000/repo:x", "[::1]:5000", "repo", "x"),
        ("host:5000/my.app__x/a-b--c:t", "host:5000", "my.app__x/a-b--c", "t")
    ])
    func parsesNamesWithDockersDefaults(text: String, host: String, repository: String, tag: String) throws {
        let name = try RegistryReference(parsing: text)
        #expect(name == RegistryReference(host: host, repository: repository, target: .tag(tag)))
    }

    @Test func parsesDigests() throws {
        let name = try RegistryReference(parsing: "127.0.0.1:5000/repo@sha256:\(Self.hex)")
        #expect(name.target == .digest(try Digest(parsing: "sha256:\(Self.hex)")))
        #expect(name.description == "127.0.0.1:5000/repo@sha256:\(Self.hex)")
        #expect(
            try SourceReference(parsing: "docker://127.0.0.1:5000/repo@sha256:\(Self.hex)").description
                == "docker://127.0.0.1:5000/repo@sha256:\(Self.hex)")
    }

    @Test(arguments: [
        "", "127.0.0.1:5000/", "127.0.0.1:5000/Repo", "host/UPPER:tag", "repo@sha256:short", "repo:t@sha256:\(hex)",
        "host:5000/repo:-tag", "host:5000/repo:", "a//b", "host:99999999/repo", "bad_host.example:5000/x/",
        "repo:" + String(repeating: "t", count: 129), "host/a..b", "host/-a", "host/a_"
    ])
    func rejectsMalformedNames(text: String) {
        #expect(throws: SourceError.self) { try RegistryReference(parsing: text) }
    }

    @Test func apiHostOfDockerHub() throws {
        #expect(try RegistryReference(parsing: "busybox").apiHost == "registry-1.docker.io")
        #expect(try RegistryReference(parsing: "127.0.0.1:5000/x").apiHost == "127.0.0.1:5000")
    }

    @Test func credentialsSplitAtTheFirstColon() {
        #expect(RegistryCredentials(parsing: "user:pa:ss") == RegistryCredentials(username: "user", password: "pa:ss"))
        #expect(RegistryCredentials(parsing: "user:") == RegistryCredentials(username: "user", password: ""))
        #expect(RegistryCredentials(parsing: "nocolon") == nil)
        #expect(RegistryCredentials(parsing: ":pass") == nil)
    }
}
