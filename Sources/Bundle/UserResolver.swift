import Flatten

/// Turns an image's `User` (`name`, `uid`, `uid:gid`, `name:group`, `uid:group`, …) into
/// ids with the image's own /etc/passwd and /etc/group, as image-spec conversion.md says:
/// numeric ids are taken as they are; names must exist; supplementary groups are looked up
/// only for a user given by name without a group.
public struct UserResolver: Sendable, Equatable {
    public struct Account: Sendable, Equatable {
        public var name: String
        public var uid: UInt32
        public var gid: UInt32
        public var home: String
    }

    public struct Group: Sendable, Equatable {
        public var name: String
        public var gid: UInt32
        public var members: [String]
    }

    /// Who the process runs as.
    public struct Identity: Sendable, Equatable {
        public var uid: UInt32
        public var gid: UInt32
        public var additionalGids: [UInt32]
        /// The passwd home, or "/" without an entry (what Docker gives HOME).
        public var home: String
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

    /// The files as the image has them (symlinks followed inside the image); missing or
    /// unreadable files mean no entries.
    public init(tree: FileTree, spill: SpillFile) {
        func text(_ path: String) -> String {
            guard case .regular(let data)? = tree.resolve(path)?.content, data.size <= 16 << 20,
                  let bytes = try? spill.read(data) else { return "" }
            return String(decoding: bytes, as: UTF8.self)
        }
        self.init(passwd: text("etc/passwd"), group: text("etc/group"))
    }

    /// Resolves `spec`; empty means root (uid 0, gid 0).
    public func resolve(_ spec: String) throws -> Identity {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let userPart = parts.first.map(String.init) ?? ""
        let groupPart = parts.count > 1 ? String(parts[1]) : nil

        let account: Account?
        let uid: UInt32
        var byName = false
        if userPart.isEmpty {
            uid = 0
            account = accounts.first { $0.uid == 0 }
        } else if let numeric = Self.number(userPart) {
            uid = numeric
            account = accounts.first { $0.uid == numeric }
        } else {
            guard let found = accounts.first(where: { $0.name == userPart }) else {
                throw BundleError.unknownUser("user \"\(userPart)\": not in the image's /etc/passwd")
            }
            uid = found.uid
            account = found
            byName = true
        }

        var gid = userPart.isEmpty ? 0 : account?.gid ?? 0
        var additional: [UInt32] = []
        if let groupPart, !groupPart.isEmpty {
            if let numeric = Self.number(groupPart) {
                gid = numeric
            } else {
                guard let found = groups.first(where: { $0.name == groupPart }) else {
                    throw BundleError.unknownUser("group \"\(groupPart)\": not in the image's /etc/group")
                }
                gid = found.gid
            }
        } else if byName, let name = account?.name {
            for group in groups where group.members.contains(name) && group.gid != gid && !additional.contains(group.gid) {
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
