import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OCIModels

/// The OCI distribution API for one repository: manifests by tag or digest, blobs by digest.
/// A 401 is answered once per request from its `WWW-Authenticate` challenge: `Bearer` → a token
/// from the realm (with basic auth when credentials are known), `Basic` → the credentials.
/// The answer is kept for later requests. Spec: distribution-spec `spec.md`, and the token
/// flow of distribution's `docs/spec/auth/token.md`.
final class RegistryClient: @unchecked Sendable {
    let reference: RegistryReference
    private let base: String
    private let credentials: RegistryCredentials?
    private let transport = HTTPTransport()
    /// scheme://host:port of the registry: the only origin whose challenges are answered.
    private let origin: String
    private let lock = NSLock()
    private var authorization: String?

    /// Every manifest kind the resolver reads, so the registry never has to convert.
    static let manifestTypes = [MediaTypes.ociIndex, MediaTypes.ociManifest, MediaTypes.dockerManifestList, MediaTypes.dockerManifest]

    init(reference: RegistryReference, credentials: RegistryCredentials?, tlsVerify: Bool) {
        self.reference = reference
        self.credentials = credentials
        base = "\(tlsVerify ? "https" : "http")://\(reference.apiHost)/v2/\(reference.repository)"
        origin = URL(string: base).map(HTTPTransport.origin) ?? base
    }

    deinit { transport.close() }

    /// A manifest or index, whole (bounded like every JSON document).
    struct ManifestResponse {
        let bytes: [UInt8]
        /// `Docker-Content-Digest`, when the registry sent one.
        let digest: String?
    }

    func manifest(_ target: RegistryReference.Target) throws -> ManifestResponse {
        let image = RegistryReference(host: reference.host, repository: reference.repository, target: target)
        let response = try get(
            "/manifests/\(target)", accept: Self.manifestTypes, sink: nil, limit: JSONDocument.limit,
            notFound: .registryImageNotFound(image.description))
        return ManifestResponse(bytes: response.body, digest: response.header("Docker-Content-Digest"))
    }

    /// Streams a blob into `sink` (which checks size and digest as the bytes arrive).
    func blob(_ digest: Digest, into sink: any BodySink) throws {
        _ = try get(
            "/blobs/\(digest)", accept: [], sink: sink, limit: 1 << 16,
            notFound: .missingBlob("\(digest) in \(reference.host)/\(reference.repository)"))
    }

    private func get(_ path: String, accept: [String], sink: (any BodySink)?, limit: Int, notFound: SourceError) throws -> HTTPResponse {
        var answered = false
        while true {
            var request = URLRequest(url: URL(string: base + path)!)
            if !accept.isEmpty { request.setValue(accept.joined(separator: ", "), forHTTPHeaderField: "Accept") }
            if let authorization = lock.withLock({ authorization }) { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
            let response = try send(request, sink: sink, limit: limit)
            switch response.status {
            case 200..<300:
                return response
            case 401 where !answered:
                answered = true
                // Only the registry's own challenge is answered: a redirect target (a CDN) that
                // asks for credentials would otherwise be handed the user's.
                if let url = response.url, HTTPTransport.origin(url) != origin {
                    throw SourceError.registryResponse(
                        host: reference.host, status: 401,
                        detail: "the redirect to \(Self.hostName(url)) asked for credentials; they are only ever sent to the registry")
                }
                let value = try authorize(AuthChallenge.parse(response.header("WWW-Authenticate") ?? ""))
                lock.withLock { authorization = value }
            case 401:
                throw credentials == nil ? SourceError.registryAuthRequired(host: reference.host) : .registryAccessDenied(host: reference.host)
            case 403:
                throw SourceError.registryAccessDenied(host: reference.host)
            case 404:
                throw notFound
            default:
                throw SourceError.registryResponse(
                    host: reference.host, status: response.status,
                    detail: Self.detail(response.body) ?? "unexpected answer to GET \(path)")
            }
        }
    }

    /// The `Authorization` value that answers the challenge.
    private func authorize(_ challenges: [AuthChallenge]) throws -> String {
        if let bearer = challenges.first(where: { $0.scheme == "bearer" }) {
            return "Bearer " + (try token(for: bearer))
        }
        if challenges.contains(where: { $0.scheme == "basic" }), let credentials {
            return credentials.basicAuthorization
        }
        throw SourceError.registryAuthRequired(host: reference.host)
    }

    /// GET realm?service=…&scope=… → `{"token": …}` (or `access_token`, the OAuth2 name). With an
    /// identity token, the OAuth2 refresh-token grant instead: POST realm with a form
    /// (distribution's `docs/spec/auth/oauth.md`), as Docker does for such logins.
    private func token(for challenge: AuthChallenge) throws -> String {
        guard let realm = challenge.parameters["realm"], var components = URLComponents(string: realm),
            let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http", components.host != nil
        else {
            throw SourceError.registryResponse(host: reference.host, status: 401, detail: "unusable token realm \"\(challenge.parameters["realm"] ?? "")\"")
        }
        // A token realm may be on another host (Docker Hub's is), but an https registry's must be
        // https too: the credentials go there.
        if base.hasPrefix("https:"), scheme != "https" {
            throw SourceError.registryResponse(
                host: reference.host, status: 401, detail: "token realm \"\(realm)\" is not https; credentials are not sent in the clear")
        }
        var items: [URLQueryItem] = []
        if let service = challenge.parameters["service"] { items.append(URLQueryItem(name: "service", value: service)) }
        items.append(URLQueryItem(name: "scope", value: challenge.parameters["scope"] ?? "repository:\(reference.repository):pull"))
        let refreshToken = credentials?.identityToken
        if refreshToken == nil { components.queryItems = (components.queryItems ?? []) + items }
        guard let url = components.url else {
            throw SourceError.registryResponse(host: reference.host, status: 401, detail: "unusable token realm \"\(realm)\"")
        }
        var request = URLRequest(url: url)
        if let refreshToken {
            var form = URLComponents()
            form.queryItems =
                [
                    URLQueryItem(name: "grant_type", value: "refresh_token"), URLQueryItem(name: "refresh_token", value: refreshToken),
                    URLQueryItem(name: "client_id", value: "oci2disk")
                ] + items
            request.httpMethod = "POST"
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            // A form reads "+" as a space; URLComponents leaves it as it is.
            request.httpBody = Data((form.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B").utf8)
        } else if let credentials {
            request.setValue(credentials.basicAuthorization, forHTTPHeaderField: "Authorization")
        }
        let response = try send(request, sink: nil, limit: 1 << 20)
        switch response.status {
        case 200..<300:
            guard let token = TokenAnswer.token(in: response.body) else {
                throw SourceError.registryResponse(host: Self.hostName(url), status: response.status, detail: "the token service sent no token")
            }
            return token
        case 401, 403:
            throw credentials == nil ? SourceError.registryAuthRequired(host: reference.host) : .registryAccessDenied(host: reference.host)
        default:
            throw SourceError.registryResponse(
                host: Self.hostName(url), status: response.status,
                detail: Self.detail(response.body) ?? "the token service refused")
        }
    }

    private func send(_ request: URLRequest, sink: (any BodySink)?, limit: Int) throws -> HTTPResponse {
        do {
            return try transport.send(request, sink: sink, limit: limit)
        } catch {
            let host = request.url.map(Self.hostName) ?? reference.host
            switch error {
            case .sink(let underlying): throw underlying
            case .tooLarge(let limit): throw SourceError.answerTooLarge(host: host, path: request.url?.path ?? "", limit: limit)
            case .insecureRedirect(let target):
                throw SourceError.registryInsecureRedirect(host: host, target: target)
            case .failed(let code, let message):
                throw SourceError.registryUnreachable(host: host, reason: Self.reason(code, message, tls: request.url?.scheme == "https"))
            }
        }
    }

    /// A short reason for a failed connection, with a hint when TLS is the problem (libcurl's
    /// TLS errors mostly arrive as code -1, so the message is looked at too).
    static func reason(_ code: URLError.Code?, _ message: String, tls: Bool) -> String {
        switch code {
        case .cannotConnectToHost?: return "connection refused"
        case .cannotFindHost?, .dnsLookupFailed?: return "unknown host"
        case .timedOut?: return "timed out"
        case .networkConnectionLost?: return "connection lost"
        default:
            let secure: Set<URLError.Code> = [
                .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
                .serverCertificateHasUnknownRoot, .serverCertificateNotYetValid
            ]
            if tls, code.map(secure.contains) == true || message.contains("SSL") || message.contains("TLS") {
                return "TLS failed (\(message)); for a registry without TLS use --tls-verify=false"
            }
            return message
        }
    }

    /// `host[:port]` of a URL, as errors name it.
    static func hostName(_ url: URL) -> String {
        (url.host ?? "") + (url.port.map { ":\($0)" } ?? "")
    }

    /// The messages of a registry error body: `{"errors": [{"code": …, "message": …}]}`.
    static func detail(_ body: [UInt8]) -> String? {
        struct Body: Decodable {
            struct Item: Decodable {
                let code: String?
                let message: String?
            }
            let errors: [Item]?
        }
        guard let items = (try? JSONDecoder().decode(Body.self, from: Data(body)))?.errors, !items.isEmpty else { return nil }
        let text = items.compactMap { $0.message ?? $0.code }.joined(separator: "; ")
        return text.isEmpty ? nil : String(text.prefix(200))
    }
}
