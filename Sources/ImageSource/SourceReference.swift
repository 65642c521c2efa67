/// An image source named with skopeo's transport syntax (containers-transports(5)).
public enum SourceReference: Equatable, Sendable, CustomStringConvertible {
    /// `oci:DIR[:REF]`: an OCI image layout directory.
    case ociLayout(path: String, ref: String?)
    /// `oci-archive:FILE[:REF]`: a tar of an OCI image layout.
    case ociArchive(path: String, ref: String?)
    /// `docker-archive:FILE[:REPO:TAG]`: `docker save` output, legacy or Docker 25+.
    case dockerArchive(path: String, ref: String?)
    /// A bare path; the kind is found by looking at it.
    case path(String)
    /// `docker-daemon:NAME[:TAG]|ID`: an image in a Docker Engine or Podman's Docker API.
    case dockerDaemon(String)
    /// `containers-storage:[[DRIVER@ROOT+RUNROOT:OPTIONS]]NAME|ID`: Podman's local store.
    case containersStorage(String)
    /// `docker://HOST[:PORT]/REPO[:TAG|@DIGEST]`: an image in a registry.
    case registry(host: String, repository: String, reference: RegistryReference.Target)

    /// Splits at the first colon after the transport, as skopeo does: paths cannot hold `:`.
    public init(parsing text: String) throws(SourceError) {
        func split(_ rest: Substring) -> (String, String?) {
            guard let colon = rest.firstIndex(of: ":") else { return (String(rest), nil) }
            let ref = String(rest[rest.index(after: colon)...])
            return (String(rest[..<colon]), ref.isEmpty ? nil : ref)
        }
        for (prefix, make) in [
            ("oci:", { (p: String, r: String?) in SourceReference.ociLayout(path: p, ref: r) }),
            ("oci-archive:", { SourceReference.ociArchive(path: $0, ref: $1) }),
            ("docker-archive:", { SourceReference.dockerArchive(path: $0, ref: $1) })
        ] where text.hasPrefix(prefix) {
            let (path, ref) = split(text.dropFirst(prefix.count))
            guard !path.isEmpty else { throw .invalidReference(text, problem: "missing path") }
            self = make(path, ref)
            return
        }
        if text.hasPrefix("docker-daemon:") {
            let name = String(text.dropFirst("docker-daemon:".count))
            _ = try DockerDaemon.pathComponent(name)
            self = .dockerDaemon(name)
            return
        }
        if text.hasPrefix("containers-storage:") {
            let rest = String(text.dropFirst("containers-storage:".count))
            _ = try ContainersStorage.parse(rest)
            self = .containersStorage(rest)
            return
        }
        if text.hasPrefix("docker://") {
            let name = try RegistryReference(parsing: String(text.dropFirst("docker://".count)))
            self = .registry(host: name.host, repository: name.repository, reference: name.target)
            return
        }
        if let colon = text.firstIndex(of: ":"), !text[..<colon].contains("/") {
            let transport = text[..<colon]
            if transport == "docker" { throw .invalidReference(text, problem: "registry images are written docker://HOST/REPO[:TAG]") }
            if ["dir"].contains(transport) {
                throw .unsupportedTransport(String(transport))
            }
            throw .unknownTransport(text)
        }
        guard !text.isEmpty else { throw .emptySource }
        self = .path(text)
    }

    public var description: String {
        switch self {
        case .ociLayout(let p, let r): "oci:\(p)" + (r.map { ":\($0)" } ?? "")
        case .ociArchive(let p, let r): "oci-archive:\(p)" + (r.map { ":\($0)" } ?? "")
        case .dockerArchive(let p, let r): "docker-archive:\(p)" + (r.map { ":\($0)" } ?? "")
        case .path(let p): p
        case .dockerDaemon(let name): "docker-daemon:\(name)"
        case .containersStorage(let text): "containers-storage:\(text)"
        case .registry(let host, let repository, let reference):
            "docker://" + RegistryReference(host: host, repository: repository, target: reference).description
        }
    }
}
