/// Why a login option cannot be applied to an image. Each names the option or file involved.
public enum ProvisionError: Error, Equatable, CustomStringConvertible {
    /// The image lacks an account database the option needs (`/etc/passwd`).
    case missingAccountFile(path: String, option: String)
    case unreadable(path: String, reason: String)
    case malformedHash(String)
    case emptyPassword(path: String)
    case invalidUserName(String)
    case invalidKeyFile(path: String, reason: String)
    /// The account database has no free id at or above 1000 below 60000 (Debian's range for users).
    case noFreeID(String)
    case hashingFailed(String)
    case notApplicable(String)

    public var description: String {
        switch self {
        case .missingAccountFile(let path, let option): "\(option): the image has no \(path) to add the login to"
        case .unreadable(let path, let reason): "\(path): \(reason)"
        case .malformedHash(let reason): "--root-password-hash: \(reason)"
        case .emptyPassword(let path): "\(path): the password file is empty (the password is its first line)"
        case .invalidUserName(let name):
            "--login-user \"\(name)\": not a valid user name (lower-case letters, digits, _ and -, starting with a letter or _, at most 32)"
        case .invalidKeyFile(let path, let reason): "--ssh-authorized-key \(path): \(reason)"
        case .noFreeID(let what): "no free \(what) id between 1000 and 59999 in the image"
        case .hashingFailed(let reason): "hashing the root password failed: \(reason)"
        case .notApplicable(let reason): reason
        }
    }
}
