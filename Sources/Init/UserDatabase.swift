/// The image's /etc/passwd and /etc/group, read directly (no NSS: a static glibc cannot load it,
/// and the image's files are what count).
struct UserDatabase {
    struct Account: Equatable {
        var name: String
        var uid: UInt32
        var gid: UInt32
        var home: String
    }

    struct Group: Equatable {
        var name: String
        var gid: UInt32
        var members: [String]
    }

    /// Who the command runs as.
    struct Identity: Equatable {
        var uid: UInt32
        var gid: UInt32
        /// Supplementary groups: the primary gid, then every group listing the user by name.
        var groups: [UInt32]
        /// The passwd home, or "/" when the user has no entry.
        var home: String
    }

    var accounts: [Account]
    var groups: [Group]

    init(passwd: String, group: String) {
        accounts = UserDatabase.records(passwd, fields: 7).compactMap { f in
            guard let uid = UInt32(f[2]), let gid = UInt32(f[3]) else {
                return nil
            }
            return Account(name: String(f[0]), uid: uid, gid: gid, home: String(f[5]))
        }
        groups = UserDatabase.records(group, fields: 4).compactMap { f in
            guard let gid = UInt32(f[2]) else {
                return nil
            }
            return Group(name: String(f[0]), gid: gid, members: f[3].split(separator: ",").map(String.init))
        }
    }

    /// Reads the files under `root` (missing files mean no entries).
    init(root: String = "") {
        self.init(
            passwd: (try? FileSystem.readText(root + "/etc/passwd")) ?? "",
            group: (try? FileSystem.readText(root + "/etc/group")) ?? "")
    }

    /// Resolves `name`, `uid`, `uid:gid`, `name:group` (empty: root). Numeric ids need no entry:
    /// a uid without one gets gid 0 and home "/", as Docker does.
    func resolve(_ spec: String) throws(InitError) -> Identity {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let userPart = parts.first.map(String.init) ?? ""
        let groupPart = parts.count > 1 ? String(parts[1]) : nil

        let account: Account?
        let uid: UInt32
        if userPart.isEmpty {
            uid = 0
            account = accounts.first { $0.uid == 0 }
        } else if let numeric = UserDatabase.number(userPart) {
            uid = numeric
            account = accounts.first { $0.uid == numeric }
        } else {
            guard let found = accounts.first(where: { $0.name == userPart }) else {
                throw .unknownUser("no user \"\(userPart)\" in /etc/passwd")
            }
            uid = found.uid
            account = found
        }

        var gid = account?.gid ?? 0
        if let groupPart, !groupPart.isEmpty {
            if let numeric = UserDatabase.number(groupPart) {
                gid = numeric
            } else {
                guard let found = groups.first(where: { $0.name == groupPart }) else {
                    throw .unknownUser("no group \"\(groupPart)\" in /etc/group")
                }
                gid = found.gid
            }
        }

        var supplementary = [gid]
        if let name = account?.name {
            for group in groups where group.members.contains(name) && !supplementary.contains(group.gid) {
                supplementary.append(group.gid)
            }
        }
        let home = account.map { $0.home.isEmpty ? "/" : $0.home } ?? "/"
        return Identity(uid: uid, gid: gid, groups: supplementary, home: home)
    }

    private static func number(_ text: String) -> UInt32? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        return UInt32(text)
    }

    /// Colon-separated records with at least `fields` fields; comments and short lines skipped.
    private static func records(_ text: String, fields: Int) -> [[Substring]] {
        text.split(separator: "\n").compactMap { line in
            if line.first == "#" {
                return nil
            }
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            return f.count >= fields ? f : nil
        }
    }
}
