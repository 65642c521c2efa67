/// How a user gets into the booted system: what `convert` adds to the image's own account
/// files. Empty options change nothing, so such disks stay exactly the image's files.
public struct LoginOptions: Sendable, Equatable {
    /// A crypt(5) hash for root, used as given.
    public var rootPasswordHash: String?
    /// A file whose first line is root's password; hashed here, never stored in plain.
    public var rootPasswordFile: String?
    /// OpenSSH public-key files, appended in order to the login user's `authorized_keys`.
    public var authorizedKeyFiles: [String] = []
    /// Who the keys are for; created when the image lacks it. nil: root.
    public var loginUser: String?

    public init() {}

    public var isEmpty: Bool { rootPasswordHash == nil && rootPasswordFile == nil && authorizedKeyFiles.isEmpty && loginUser == nil }

    /// The options given, as the user typed them (for messages).
    public var names: [String] {
        var names: [String] = []
        if rootPasswordHash != nil { names.append("--root-password-hash") }
        if rootPasswordFile != nil { names.append("--root-password-file") }
        if !authorizedKeyFiles.isEmpty { names.append("--ssh-authorized-key") }
        if loginUser != nil { names.append("--login-user") }
        return names
    }

    /// Checks what the user gave (the name, the hash, the key and password files) before any
    /// layer is read, so a typo costs no conversion.
    public func checkInputs() throws(ProvisionError) {
        if let loginUser, !Self.isValidUserName(loginUser) { throw .invalidUserName(loginUser) }
        if let rootPasswordHash { try PasswordHash.validate(rootPasswordHash) }
        if let rootPasswordFile { _ = try Self.password(fromFile: rootPasswordFile) }
        _ = try AuthorizedKeys.read(authorizedKeyFiles)
    }

    /// The first line of a password file (without its line ending).
    static func password(fromFile path: String) throws(ProvisionError) -> String {
        let text = try ProvisionFiles.readText(path, limit: 4096)
        let first = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let password = first.hasSuffix("\r") ? String(first.dropLast()) : String(first)
        guard !password.isEmpty else { throw .emptyPassword(path: path) }
        return password
    }

    /// Debian's adduser rule (NAME_REGEX), which also keeps `:` and newlines out of the files.
    public static func isValidUserName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 32 else { return false }
        let lower = UInt8(ascii: "a")...UInt8(ascii: "z"), digit = UInt8(ascii: "0")...UInt8(ascii: "9")
        guard lower.contains(first) || first == UInt8(ascii: "_") else { return false }
        return bytes.dropFirst().allSatisfy { lower.contains($0) || digit.contains($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }
}
