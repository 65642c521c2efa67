/// An image name or ID a local engine is asked for (`docker-daemon:`, `containers-storage:`):
/// letters, digits and `-._:/@` only (what names, tags, digests and IDs are made of), not
/// starting with `-` or `/`, no `..`. Anything else is refused rather than escaped, so a name
/// can add neither an option to Podman's command line nor a query or a request to the API.
enum ImageName {
    static let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:/@")

    static func checked(_ name: String, source: String) throws(SourceError) -> String {
        guard let first = name.first, first != "-", first != "/", name.allSatisfy(allowed.contains), !name.contains("..") else {
            throw .invalidReference(source, problem: "not an image name or ID")
        }
        return name
    }
}
