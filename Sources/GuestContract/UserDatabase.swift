/// An image's /etc/passwd and /etc/group, read as text (no NSS: a static glibc cannot load it,
/// and the image's files are what count, not the host's), and the one rule that turns a
/// `User` / `--user` value into ids. The guest init (`run`) and the bundle writer (`runc`)
/// both use it, so the same image and user get the same ids and groups under either.
public struct UserDatabase: Equatable, Sendable {
    public struct Account: Equatable, Sendable {
        public var name: String
        public var uid: UInt32
        public var gid: UInt32
        public var home: String
    }

    public struct Group: Equatable, Sendable {
        public var name: String
        public var gid: UInt32
        public var members: [String]
    }

    /// Who a process runs as.
    public struct Identity: Equatable, Sendable {
        public var uid: UInt32
        public var gid: UInt32
        /// The supplementary groups, exactly (setgroups(2) gets this list; the primary gid is
        /// in it only if a group lists the user).
        public var additionalGids: [UInt32]
        /// The passwd home, or "/" when the user has no entry (what Docker gives HOME).
        public var home: String

        public init(uid: UInt32, gid: UInt32, additionalGids: [UInt32], home: String) {
            self.uid = uid
            self.gid = gid
            self.additionalGids = additionalGids
            self.home = home
        }
    }

    public var accounts: [Account]
    public var groups: [Group]

    public init(passwd: String, group: String) {
        accounts = Self.records(passwd, fields: 7).compactMap { f in
            guard let uid = UInt32(f[2]), let gid = UInt32(f[3]) else { return nil }
            return Account(name: String(f[0]), uid: uid, gid: gid, home: String(f[5]))
        }
        groups = Self.records(group, fields: 4).compactMap { f in
            guard let gid = UInt32(f[2]) else { return nil }
            return Group(name: String(f[0]), gid: gid, members: f[3].split(separator: ",").map(String.init))
        }
    }

    /// Resolves `name`, `uid`, `name:group`, `uid:gid`, `name:gid`, `uid:group`; empty is root.
    ///
    /// The rule is runc's (libcontainer/user's GetExecUser, which Docker and containerd use
    /// for an image's `User`):
    /// - the user: a name must be in passwd; a number is taken as is, and its passwd entry, if
    ///   any, gives the name, primary group and home; nothing given means uid 0;
    /// - the group: a name must be in group; a number is taken as is; either replaces the
    ///   primary group and then there are no supplementary groups;
    /// - without a group, the supplementary groups are every group that lists the user's
    ///   name (so a numeric uid with an entry gets them too), in the file's order; the
    ///   first passwd entry that matches wins.
    public func resolve(_ spec: String) throws(UserLookupError) -> Identity {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let userPart = parts.first.map(String.init) ?? ""
        let groupPart = parts.count > 1 ? String(parts[1]) : ""

        let account: Account?
        let uid: UInt32
        if let numeric = userPart.isEmpty ? 0 : Self.number(userPart) {
            uid = numeric
            account = accounts.first { $0.uid == numeric }
        } else {
            guard let found = accounts.first(where: { $0.name == userPart }) else { throw .unknownUser(userPart) }
            uid = found.uid
            account = found
        }

        var gid = account?.gid ?? 0
        var additional: [UInt32] = []
        if !groupPart.isEmpty {
            if let numeric = Self.number(groupPart) {
                gid = numeric
            } else {
                guard let found = groups.first(where: { $0.name == groupPart }) else { throw .unknownGroup(groupPart) }
                gid = found.gid
            }
        } else if let name = account?.name {
            for group in groups where group.members.contains(name) {
                additional.append(group.gid)
            }
        }
        let home = account.map { $0.home.isEmpty ? "/" : $0.home } ?? "/"
        return Identity(uid: uid, gid: gid, additionalGids: additional, home: home)
    }

    private static func number(_ text: String) -> UInt32? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return UInt32(text)
    }

    /// Colon-separated records with at least `fields` fields; comments and short lines skipped.
    private static func records(_ text: String, fields: Int) -> [[Substring]] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            if line.first == "#" { return nil }
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            return f.count >= fields ? f : nil
        }
    }
}

/// A `User` naming what the image does not define.
public enum UserLookupError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownUser(String)
    case unknownGroup(String)

    public var description: String {
        switch self {
        case .unknownUser(let name): "user \"\(name)\": not in the image's /etc/passwd"
        case .unknownGroup(let name): "group \"\(name)\": not in the image's /etc/group"
        }
    }
}
