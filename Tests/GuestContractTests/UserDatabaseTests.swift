import GuestContract
import Testing

/// runc's rule (libcontainer/user GetExecUser, what Docker applies to an image's `User`),
/// case by case. The same rule decides under `run` (the init) and under `runc` (the bundle);
/// test_bundle.py checks both against each other on a real image.
@Suite struct UserDatabaseTests {
    let users = UserDatabase(
        passwd: """
            # comment
            root:x:0:0:root:/root:/bin/sh
            app:x:1000:1000:App:/home/app:/bin/sh
            nohome:x:1002:1002:::/bin/sh
            short:line
            app:x:2000:2000:second entry with the same name:/nowhere:/bin/sh
            """,
        group: """
            root:x:0:root
            app:x:1000:
            audio:x:29:app,other
            video:x:44:app
            staff:x:50:
            self:x:1000:app
            """)

    @Test(
        arguments: [
            // Nothing given: uid 0 and root's entry, with the groups that list root.
            ("", 0, 0, [0], "/root"),
            // A name: its entry, and every group listing it (the primary one too, if listed).
            ("app", 1000, 1000, [29, 44, 1000], "/home/app"),
            // A number with an entry gets that entry's name, so its groups too.
            ("1000", 1000, 1000, [29, 44, 1000], "/home/app"),
            // A number without one: taken as is, gid 0, home /.
            ("4242", 4242, 0, [], "/"),
            // A group given replaces the primary group, and there are no supplementary groups.
            ("1000:50", 1000, 50, [], "/home/app"),
            ("app:staff", 1000, 50, [], "/home/app"),
            ("app:7", 1000, 7, [], "/home/app"),
            ("4242:staff", 4242, 50, [], "/"),
            ("0:0", 0, 0, [], "/root"),
            // An empty home is /.
            ("nohome", 1002, 1002, [], "/"),
            // An empty group part is no group.
            ("app:", 1000, 1000, [29, 44, 1000], "/home/app")
        ] as [(String, UInt32, UInt32, [UInt32], String)])
    func resolves(spec: String, uid: UInt32, gid: UInt32, extra: [UInt32], home: String) throws {
        #expect(try users.resolve(spec) == UserDatabase.Identity(uid: uid, gid: gid, additionalGids: extra, home: home))
    }

    @Test func unknownNamesAreErrors() {
        #expect(throws: UserLookupError.unknownUser("bob")) { try users.resolve("bob") }
        #expect(throws: UserLookupError.unknownGroup("wheel")) { try users.resolve("app:wheel") }
        #expect(UserLookupError.unknownUser("bob").description == "user \"bob\": not in the image's /etc/passwd")
    }

    @Test func noFilesMeansOnlyNumbers() throws {
        let empty = UserDatabase(passwd: "", group: "")
        #expect(try empty.resolve("") == UserDatabase.Identity(uid: 0, gid: 0, additionalGids: [], home: "/"))
        #expect(try empty.resolve("5:6").gid == 6)
        #expect(throws: UserLookupError.unknownUser("root")) { try empty.resolve("root") }
    }
}
