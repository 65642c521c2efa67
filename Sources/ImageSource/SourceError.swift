import SystemBase
import Archive
#if canImport(Glibc)
import Glibc
#endif
import OCIModels

/// Everything that can be wrong with an image source. Messages are one line, lower case, and
/// name the thing at fault; the command line puts the source in front.
public enum SourceError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownTransport(String)
    case notFound(String)
    case notAnImage(String)
    case missingBlob(String)
    case sizeMismatch(what: String, expected: Int64, actual: Int64)
    case digestMismatch(what: String, expected: String, actual: String)
    case invalidJSON(what: String, reason: String)
    case unsupportedMediaType(what: String, mediaType: String)
    case refNotFound(ref: String, available: [String])
    case ambiguousRef(available: [String])
    case platformNotFound(wanted: String, available: [String])
    case layerCountMismatch(layers: Int, diffIDs: Int)
    case io(path: String, reason: String)
    /// A docker-archive whose manifest.json lists no image.
    case emptyArchive(String)
    /// A blob's file name in an archive that is no digest.
    case blobNameNotADigest(String)
    /// An auth file entry that cannot be used: the file, and why.
    case authFile(path: String, problem: String)
    /// A registry's answer larger than the tool reads for its kind.
    case answerTooLarge(host: String, path: String, limit: Int)
    /// Indexes inside indexes, deeper than the resolver follows.
    case indexesTooDeep(limit: Int)
    /// A transport named in containers-transports(5) that this version does not read.
    case unsupportedTransport(String)
    case emptySource
    /// The Docker (or Podman) daemon could not give the image: its socket, and why.
    case daemon(socket: String, problem: String)
    /// The daemon has no such image.
    case daemonImageNotFound(name: String, socket: String)
    /// A source or registry reference that cannot name an image: the text, and why.
    case invalidReference(String, problem: String)
    /// A Docker credential helper could not give credentials: for which host, which helper, why.
    case credentialHelper(host: String, helper: String, problem: String)
    /// The registry cannot be reached at all: unknown host, connection refused, TLS failure.
    case registryUnreachable(host: String, reason: String)
    /// 401 without credentials (or the anonymous token was not enough).
    case registryAuthRequired(host: String)
    /// 403, or 401 with the credentials given.
    case registryAccessDenied(host: String)
    /// 404 for a manifest: no such repository or tag.
    case registryImageNotFound(String)
    /// Any other unexpected answer.
    case registryResponse(host: String, status: Int, detail: String)
    /// An https registry redirected to plain http.
    case registryInsecureRedirect(host: String, target: String)

    public var description: String {
        switch self {
        case .unknownTransport(let text): "unknown transport in \"\(text)\" (use oci:, oci-archive:, docker-archive:, docker:// or a path)"
        case .notFound(let path): "\(path): no such file or directory"
        case .notAnImage(let path): "\(path): not an OCI image layout, OCI archive or docker-archive"
        case .missingBlob(let what): "missing blob \(what)"
        case .sizeMismatch(let what, let expected, let actual): "\(what): size is \(actual) bytes, expected \(expected)"
        case .digestMismatch(let what, let expected, let actual): "\(what): digest is \(actual), expected \(expected)"
        case .invalidJSON(let what, let reason): "\(what): invalid JSON: \(reason)"
        case .unsupportedMediaType(let what, let mediaType): "\(what): unsupported media type \"\(mediaType)\""
        case .refNotFound(let ref, let available):
            "no image named \"\(ref)\" (available: \(available.isEmpty ? "none" : available.joined(separator: ", ")))"
        case .ambiguousRef(let available): "several images, name one of: \(available.joined(separator: ", "))"
        case .platformNotFound(let wanted, let available):
            "no image for platform \(wanted) (available: \(available.isEmpty ? "none" : available.joined(separator: ", ")))"
        case .layerCountMismatch(let layers, let diffIDs): "manifest has \(layers) layers but the config lists \(diffIDs) diff_ids"
        case .io(let path, let reason): "\(path): \(reason)"
        case .emptyArchive(let what): "\(what) lists no images"
        case .blobNameNotADigest(let what): "\(what): file name is not a digest"
        case .authFile(let path, let problem): "auth file \(path): \(problem)"
        case .answerTooLarge(let host, let path, let limit): "\(host): answer to \(path) is larger than \(limit) bytes"
        case .indexesTooDeep(let limit): "image indexes nested more than \(limit) deep"
        case .unsupportedTransport(let transport): "transport \"\(transport):\" is not supported yet"
        case .emptySource: "empty source"
        case .daemon(let socket, let problem): "daemon at unix://\(socket): \(problem)"
        case .daemonImageNotFound(let name, let socket): "no image \(name) in the daemon at unix://\(socket)"
        case .invalidReference(let text, let problem): "\"\(text)\": \(problem)"
        case .credentialHelper(let host, let helper, let problem): "\(host): credential helper \(helper) \(problem)"
        case .registryUnreachable(let host, let reason): "cannot reach registry \(host): \(reason)"
        case .registryAuthRequired(let host): "\(host): authentication required (give --creds USER:PASS, or log in with skopeo login)"
        case .registryAccessDenied(let host): "\(host): access denied (wrong credentials, or no permission to pull)"
        case .registryImageNotFound(let image): "no such image: \(image)"
        case .registryResponse(let host, let status, let detail): "\(host): \(detail) (HTTP \(status))"
        case .registryInsecureRedirect(let host, let target): "\(host): redirect from https to \(target) refused (it would go in the clear)"
        }
    }
}

extension FileByteSource {
    /// Opens `path` for an image source: a missing file is `.notFound`, anything else `.io`.
    static func opening(_ path: String) throws(SourceError) -> FileByteSource {
        do { return try FileByteSource(path: path) } catch {
            throw error.code == ENOENT ? .notFound(path) : .io(path: path, reason: SystemError.message(error.code))
        }
    }
}
