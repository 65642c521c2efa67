import Archive
import Flatten
import Foundation
import Testing
@testable import Provision

/// The provisioner on a small tree with Debian-like account files.
struct LoginProvisionerTests {
    let scratch = NSTemporaryDirectory() + "provision-\(UUID().uuidString)"

    func image(shadow: Bool = true) throws -> (FileTree, SpillFile) {
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let spill = try SpillFile(directory: scratch)
        let tree = FileTree(defaultTime: 1_700_000_000)
        var edits: [TreeEdit] = [
            .file(
                "/etc/passwd", Array("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n".utf8), permissions: 0o644, uid: 0, gid: 0),
            .file("/etc/group", Array("root:x:0:\nshadow:x:42:\n".utf8), permissions: 0o644, uid: 0, gid: 0),
            .file("/etc/login.defs", Array("ENCRYPT_METHOD YESCRYPT\n".utf8), permissions: 0o644, uid: 0, gid: 0),
            .file("/bin/bash", [0x7F], permissions: 0o755, uid: 0, gid: 0)
        ]
        if shadow {
            edits.append(.file("/etc/shadow", Array("root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n".utf8), permissions: 0o640, uid: 0, gid: 42))
        }
        try TreeEdit.apply(edits, to: tree, spill: spill, layer: 0, time: 1)
        return (tree, spill)
    }

    func text(_ tree: FileTree, _ spill: SpillFile, _ path: String) throws -> String? {
        guard case .regular(let data)? = tree.resolve(path)?.content else { return nil }
        return String(decoding: try spill.read(data), as: UTF8.self)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = scratch + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aPasswordFileIsHashedIntoShadowKeepingItsMode() throws {
        let (tree, spill) = try image()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var options = LoginOptions()
        options.rootPasswordFile = try write("pw", "s3cret\nignored\n")
        try LoginProvisioner.apply(options, to: tree, spill: spill, layer: 1, time: 1_700_000_000) { _ in [UInt8](repeating: 1, count: 16) }
        let shadow = try #require(try text(tree, spill, "etc/shadow"))
        let root = shadow.split(separator: "\n")[0].split(separator: ":", omittingEmptySubsequences: false)
        #expect(root[1].hasPrefix("$y$"))
        #expect(root[2] == "19675")
        #expect(!shadow.contains("s3cret"))
        #expect(shadow.hasSuffix("daemon:*:19000:0:99999:7:::\n"))
        let meta = try #require(tree.resolve("etc/shadow")?.metadata)
        #expect(meta.permissions == 0o640 && meta.gid == 42)
        #expect(try text(tree, spill, "etc/passwd")?.hasPrefix("root:x:0:0:") == true)
    }

    @Test func aNewLoginUserGetsAccountsAHomeAndItsKeys() throws {
        let (tree, spill) = try image()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var options = LoginOptions()
        options.loginUser = "app"
        options.authorizedKeyFiles = [try write("k1.pub", "ssh-ed25519 AAAAC3Nza one@host\n"), try write("k2.pub", "# c\nssh-rsa AAAAB3Nza two@host")]
        try LoginProvisioner.apply(options, to: tree, spill: spill, layer: 1, time: 0) { _ in [] }
        #expect(try text(tree, spill, "etc/passwd")?.hasSuffix("app:x:1000:1000::/home/app:/bin/bash\n") == true)
        #expect(try text(tree, spill, "etc/group")?.hasSuffix("app:x:1000:\n") == true)
        #expect(try text(tree, spill, "etc/shadow")?.hasSuffix("app:*:0:0:99999:7:::\n") == true)
        #expect(try text(tree, spill, "home/app/.ssh/authorized_keys") == "ssh-ed25519 AAAAC3Nza one@host\nssh-rsa AAAAB3Nza two@host\n")
        for (path, mode) in [("home/app", 0o700), ("home/app/.ssh", 0o700), ("home/app/.ssh/authorized_keys", 0o600)] {
            let meta = try #require(tree.resolve(path)?.metadata)
            #expect(meta.permissions == UInt16(mode) && meta.uid == 1000 && meta.gid == 1000, "\(path)")
        }
    }

    @Test func withoutShadowTheHashGoesIntoPasswd() throws {
        let (tree, spill) = try image(shadow: false)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var options = LoginOptions()
        let hash = try PasswordHash.hash("pw", prefix: "$6$", saltSeed: [UInt8](repeating: 3, count: 16))
        options.rootPasswordHash = hash
        try LoginProvisioner.apply(options, to: tree, spill: spill, layer: 1, time: 0) { _ in [] }
        #expect(try text(tree, spill, "etc/passwd")?.hasPrefix("root:\(hash):0:0:") == true)
    }

    @Test func badInputIsOneClearError() throws {
        let (tree, spill) = try image()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var options = LoginOptions()
        options.authorizedKeyFiles = [try write("id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n")]
        #expect(throws: ProvisionError.invalidKeyFile(path: scratch + "/id_ed25519", reason: "this is a private key: give the .pub file")) {
            try LoginProvisioner.apply(options, to: tree, spill: spill, layer: 1, time: 0) { _ in [] }
        }
        options.authorizedKeyFiles = [scratch + "/missing.pub"]
        #expect(throws: ProvisionError.unreadable(path: scratch + "/missing.pub", reason: "No such file or directory")) {
            try LoginProvisioner.apply(options, to: tree, spill: spill, layer: 1, time: 0) { _ in [] }
        }
        let empty = FileTree(defaultTime: 0)
        options = LoginOptions()
        options.rootPasswordHash = "$6$x$y"
        #expect(throws: ProvisionError.missingAccountFile(path: "/etc/passwd", option: "--root-password-hash")) {
            try LoginProvisioner.apply(options, to: empty, spill: spill, layer: 1, time: 0) { _ in [] }
        }
    }
}
