import Testing
@testable import Provision

struct PasswordHashTests {
    @Test func hashesVerifyAndAreReproducible() throws {
        let seed = [UInt8](repeating: 7, count: 16)
        for prefix in ["$y$", "$6$"] {
            let hash = try PasswordHash.hash("correct horse", prefix: prefix, saltSeed: seed)
            #expect(hash.hasPrefix(prefix))
            #expect(try PasswordHash.hash("correct horse", prefix: prefix, saltSeed: seed) == hash)
            #expect(try PasswordHash.hash("correct horse", prefix: prefix, saltSeed: [UInt8](repeating: 8, count: 16)) != hash)
            try PasswordHash.validate(hash)
        }
    }

    @Test(arguments: ["", "plain", "$1$abc$def", "$6$salt", "$y$j9T$abc:def", "$6$rounds=5000$salt$x y", "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6"])
    func malformedHashesAreRefused(_ hash: String) {
        #expect(throws: ProvisionError.self) { try PasswordHash.validate(hash) }
    }

    @Test func theMethodFollowsLoginDefs() {
        #expect(PasswordHash.prefix(forLoginDefs: "# comment\nENCRYPT_METHOD YESCRYPT\n") == "$y$")
        #expect(PasswordHash.prefix(forLoginDefs: "ENCRYPT_METHOD\tSHA512") == "$6$")
        #expect(PasswordHash.prefix(forLoginDefs: nil) == "$6$")
    }

    @Test(arguments: [
        ("app", true), ("_svc", true), ("a-b_9", true), ("", false), ("Root", false), ("9lives", false), ("a:b", false),
        ("a\nb", false), (String(repeating: "a", count: 33), false)
    ])
    func userNames(_ name: String, _ valid: Bool) {
        #expect(LoginOptions.isValidUserName(name) == valid)
    }
}
