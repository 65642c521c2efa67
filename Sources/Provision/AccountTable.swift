/// One of `/etc/passwd`, `/etc/group`, `/etc/shadow`: lines of `:`-separated fields. Lines
/// are kept as they are (comments, odd entries), so only what is changed differs.
struct AccountTable: Equatable {
    private(set) var lines: [String]

    init(text: String) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        self.lines = lines
    }

    var text: String { lines.map { $0 + "\n" }.joined() }

    /// The fields of the entry named `name`.
    func entry(_ name: String) -> [String]? {
        lines.lazy.map(Self.fields).first { $0.first == name && $0.count > 1 }
    }

    /// The numeric ids in field `index` (2 for uid in passwd and gid in group).
    func ids(field index: Int) -> Set<UInt32> {
        Set(
            lines.compactMap { line in
                let fields = Self.fields(line)
                return fields.count > index ? UInt32(fields[index]) : nil
            })
    }

    /// Replaces the entry named `fields[0]`, or appends it.
    mutating func set(_ fields: [String]) {
        let line = fields.joined(separator: ":")
        if let index = lines.firstIndex(where: { Self.fields($0).first == fields[0] }) {
            lines[index] = line
        } else {
            lines.append(line)
        }
    }

    /// Changes one field of an existing entry, padding short entries with empty fields.
    mutating func update(_ name: String, field index: Int, to value: String) -> Bool {
        guard let line = lines.firstIndex(where: { Self.fields($0).first == name }) else { return false }
        var fields = Self.fields(lines[line])
        while fields.count <= index { fields.append("") }
        fields[index] = value
        lines[line] = fields.joined(separator: ":")
        return true
    }

    private static func fields(_ line: String) -> [String] {
        line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    }

    /// The lowest id from 1000 (Debian's FIRST_UID/FIRST_GID) free in all of `taken`.
    static func firstFreeID(_ taken: Set<UInt32>...) -> UInt32? {
        (1000..<60000).first { id in taken.allSatisfy { !$0.contains(UInt32(id)) } }.map(UInt32.init)
    }
}
