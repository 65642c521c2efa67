import Archive
import Flatten

/// Adds the logins `LoginOptions` ask for to a flattened image, as one more layer on top:
/// the account files rewritten (only the lines that change), the login user's home and
/// `~/.ssh/authorized_keys`. Applied through `LayerApplier`, so the rules (and the tree's
/// bounds) are the same as for the image's own layers.
public enum LoginProvisioner {
    /// - Parameters:
    ///   - layer: the index the edits go in as (one above the image's top layer).
    ///   - time: mtime of what is written (the conversion's fixed time: output stays reproducible).
    ///   - saltSeed: 16 bytes for the password's salt, derived (by the caller) from the image and the password.
    public static func apply(
        _ options: LoginOptions, to tree: FileTree, spill: SpillFile, layer: Int, time: Int64,
        saltSeed: (String) -> [UInt8]
    ) throws {
        guard !options.isEmpty else { return }
        let option = options.names.joined(separator: ", ")
        guard let passwdFile = try readFile("etc/passwd", tree: tree, spill: spill) else {
            throw ProvisionError.missingAccountFile(path: "/etc/passwd", option: option)
        }
        var passwd = AccountTable(text: passwdFile.text)
        let shadowFile = try readFile("etc/shadow", tree: tree, spill: spill)
        var shadow = shadowFile.map { AccountTable(text: $0.text) }
        let groupFile = try readFile("etc/group", tree: tree, spill: spill)
        var group = groupFile.map { AccountTable(text: $0.text) }
        // Days since 1970 for shadow's "last changed" field, from the fixed time.
        let day = String(max(0, time) / 86_400)

        var edits: [TreeEdit] = []
        var keyOwner = (name: "root", uid: UInt32(0), gid: UInt32(0), home: passwd.entry("root").flatMap { $0.count > 5 ? $0[5] : nil } ?? "/root")

        if let name = options.loginUser {
            guard LoginOptions.isValidUserName(name) else { throw ProvisionError.invalidUserName(name) }
            if let entry = passwd.entry(name), entry.count > 5, let uid = UInt32(entry[2]), let gid = UInt32(entry[3]) {
                keyOwner = (name, uid, gid, entry[5].isEmpty ? "/" : entry[5])
            } else {
                guard let uid = AccountTable.firstFreeID(passwd.ids(field: 2)) else { throw ProvisionError.noFreeID("user") }
                let gid: UInt32
                if let existing = group?.entry(name), existing.count > 2, let id = UInt32(existing[2]) {
                    gid = id
                } else {
                    // The user's own group, with the same number when that is free (as adduser does).
                    let groupIDs = group?.ids(field: 2) ?? []
                    guard let free = groupIDs.contains(uid) ? AccountTable.firstFreeID(groupIDs) : uid else { throw ProvisionError.noFreeID("group") }
                    gid = free
                    if group == nil { group = AccountTable(text: "") }
                    group!.set([name, "x", String(gid), ""])
                }
                let home = "/home/" + name
                let shell = ["bin/bash", "bin/sh"].first { tree.resolve($0) != nil }.map { "/" + $0 } ?? "/bin/sh"
                passwd.set([name, shadow == nil ? "*" : "x", String(uid), String(gid), "", home, shell])
                // '*': no password works, yet the account is not locked, so sshd accepts its keys.
                shadow?.set([name, "*", day, "0", "99999", "7", "", "", ""])
                edits.append(.directory(home, permissions: 0o700, uid: uid, gid: gid))
                keyOwner = (name, uid, gid, home)
            }
        }

        if options.rootPasswordHash != nil || options.rootPasswordFile != nil {
            guard passwd.entry("root") != nil else { throw ProvisionError.notApplicable("\(option): the image's /etc/passwd has no root entry") }
            let hash: String
            if let given = options.rootPasswordHash {
                try PasswordHash.validate(given)
                hash = given
            } else {
                let password = try LoginOptions.password(fromFile: options.rootPasswordFile!)
                let loginDefs = try readFile("etc/login.defs", tree: tree, spill: spill)?.text
                hash = try PasswordHash.hash(password, prefix: PasswordHash.prefix(forLoginDefs: loginDefs), saltSeed: saltSeed(password))
            }
            if shadow != nil, passwd.entry("root")?[1] == "x" {
                if shadow!.entry("root") == nil { shadow!.set(["root", hash, day, "0", "99999", "7", "", "", ""]) }
                _ = shadow!.update("root", field: 1, to: hash)
                _ = shadow!.update("root", field: 2, to: day)
            } else {
                // No shadow file (busybox-style images): the hash lives in passwd itself.
                _ = passwd.update("root", field: 1, to: hash)
            }
        }

        if !options.authorizedKeyFiles.isEmpty {
            let keys = try AuthorizedKeys.read(options.authorizedKeyFiles)
            let home = keyOwner.home.split(separator: "/").joined(separator: "/")
            let ssh = home.isEmpty ? ".ssh" : home + "/.ssh"
            // Kept only when it is a plain file: a symlink there is replaced, never followed, so
            // no other file of the image ends up in the user's 0600 key file.
            let existing = try readFile(ssh + "/authorized_keys", tree: tree, spill: spill, followLast: false)?.text ?? ""
            let content = existing + (existing.isEmpty || existing.hasSuffix("\n") ? "" : "\n") + keys.map { $0 + "\n" }.joined()
            if tree.resolve(home) == nil { edits.append(.directory("/" + home, permissions: 0o700, uid: keyOwner.uid, gid: keyOwner.gid)) }
            edits.append(.directory("/" + ssh, permissions: 0o700, uid: keyOwner.uid, gid: keyOwner.gid))
            edits.append(.file("/" + ssh + "/authorized_keys", Array(content.utf8), permissions: 0o600, uid: keyOwner.uid, gid: keyOwner.gid))
        }

        // The account files keep their owners and modes; only changed ones are rewritten.
        if passwd.text != passwdFile.text { edits.append(.file("/etc/passwd", Array(passwd.text.utf8), like: passwdFile.metadata)) }
        if let shadow, let shadowFile, shadow.text != shadowFile.text { edits.append(.file("/etc/shadow", Array(shadow.text.utf8), like: shadowFile.metadata)) }
        if let group, group.text != (groupFile?.text ?? "") {
            edits.append(.file("/etc/group", Array(group.text.utf8), like: groupFile?.metadata ?? Metadata(permissions: 0o644, mtimeSeconds: time)))
        }
        try TreeEdit.apply(edits, to: tree, spill: spill, layer: layer, time: time)
    }

    private static func readFile(_ path: String, tree: FileTree, spill: SpillFile, followLast: Bool = true) throws -> (text: String, metadata: Metadata)? {
        let found: Inode?
        if followLast {
            found = tree.resolve(path)
        } else {
            let parts = path.split(separator: "/")
            guard let name = parts.last, case .directory(let parent)? = tree.resolve(parts.dropLast().joined(separator: "/"))?.content else { return nil }
            found = parent.children[Array(name.utf8)]?.inode
            if case .symlink? = found?.content { return nil }
        }
        guard let inode = found else { return nil }
        guard case .regular(let data) = inode.content else { throw ProvisionError.notApplicable("/\(path) in the image is not a regular file") }
        let bytes = try spill.read(data, limit: 64 << 20)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw ProvisionError.notApplicable("/\(path) in the image is not UTF-8 text") }
        return (text, inode.metadata)
    }
}
