import Foundation
import SystemBase

/// How to reach registries: credentials, TLS, and where downloaded blobs are kept.
public struct RegistryOptions: Sendable, Equatable {
    /// `--creds USER:PASS`; nil: looked up in the auth files (`RegistryAuthFile`).
    public var credentials: RegistryCredentials?
    /// false: talk plain HTTP (a local registry without TLS), as skopeo's `--tls-verify=false`.
    public var tlsVerify = true
    /// Folder holding `blobs/ALG/HEX`; nil: `${XDG_CACHE_HOME:-~/.cache}/oci2disk`.
    public var cacheDirectory: String?
    /// The environment the auth files and the default cache folder are found from: the
    /// command line passes its own; a library caller says which (none by default).
    public var environment: [String: String] = [:]

    public init() {}

    /// The cache folder in effect.
    public var resolvedCacheDirectory: String {
        cacheDirectory ?? UserCacheFolder.path(environment: environment)
    }

    static func home(_ environment: [String: String]) -> String {
        UserCacheFolder.home(environment: environment)
    }
}

/// A user name and password for one registry.
public struct RegistryCredentials: Sendable, Equatable {
    public let username: String
    public let password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// `USER:PASS`, split at the first colon (passwords may hold colons).
    public init?(parsing text: String) {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return nil }
        self.init(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
    }

    /// The user name Docker's tools store with an identity token (an OAuth2 refresh token).
    public static let identityTokenUser = "<token>"

    /// The refresh token, when these credentials are one (from `identitytoken` or a helper).
    var identityToken: String? { username == Self.identityTokenUser ? password : nil }

    /// The `Authorization` header value for basic auth.
    var basicAuthorization: String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }
}
