/// Errors in the content of OCI documents themselves (not in reading them).
public enum OCIError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidDigest(String)
    case invalidPlatform(String)

    public var description: String {
        switch self {
        case .invalidDigest(let text): "invalid digest \"\(text)\" (want sha256:<64 hex> or sha512:<128 hex>)"
        case .invalidPlatform(let text): "invalid platform \"\(text)\" (want os/arch[/variant])"
        }
    }
}
