@testable import Bundle
import Testing

@Suite("UserResolver") struct UserResolverTests {
    let users = UserResolver(
        passwd: """
        # comment
        root:x:0:0:root:/root:/bin/sh
        app:x:1000:1000:App:/home/app:/bin/sh
        nohome:x:1002:1002:::/bin/sh
        short:line
        """,
        group: """
        root:x:0:
        app:x:1000:
        audio:x:29:app,other
        video:x:44:app
        staff:x:50:
        """)

    @Test(arguments: [
        ("", 0, 0, [], "/root"),
        ("app", 1000, 1000, [29, 44], "/home/app"),
        ("1000", 1000, 1000, [], "/home/app"),
        ("4242", 4242, 0, [], "/"),
        ("1000:50", 1000, 50, [], "/home/app"),
        ("app:staff", 1000, 50, [], "/home/app"),
        ("app:7", 1000, 7, [], "/home/app"),
        ("4242:staff", 4242, 50, [], "/"),
        ("nohome", 1002, 1002, [], "/"),
    ] as [(String, UInt32, UInt32, [UInt32], String)])
    func resolves(spec: String, uid: UInt32, gid: UInt32, extra: [UInt32], home: String) throws {
        #expect(try users.resolve(spec) == UserResolver.Identity(uid: uid, gid: gid, additionalGids: extra, home: home))
    }

    @Test func unknownNamesAreErrors() {
        #expect(throws: BundleError.unknownUser("user \"bob\": not in the image's /etc/passwd")) { try users.resolve("bob") }
        #expect(throws: BundleError.unknownUser("group \"wheel\": not in the image's /etc/group")) { try users.resolve("app:wheel") }
    }

    @Test func noFilesMeansOnlyNumbers() throws {
        let empty = UserResolver(passwd: "", group: "")
        #expect(try empty.resolve("") == UserResolver.Identity(uid: 0, gid: 0, additionalGids: [], home: "/"))
        #expect(try empty.resolve("5:6").gid == 6)
        #expect(throws: BundleError.self) { try empty.resolve("root") }
    }
}
