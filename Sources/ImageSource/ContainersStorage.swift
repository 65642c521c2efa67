import Foundation
import SystemBase

/// `containers-storage:[[DRIVER@ROOT+RUNROOT:OPTIONS]]NAME|ID`: an image in Podman's (and
/// Buildah's) local store: rootful `/var/lib/containers/storage`, rootless
/// `~/.local/share/containers/storage`, or the store the specifier names.
///
/// Read through Podman (`podman image save --format docker-archive`), not from the store's
/// files: their layout is c/storage's own (per-driver layer trees, layers.json, its locks,
/// which a reader must take while Podman may be writing), while `podman save` writes a
/// documented format under those locks, for rootful and rootless stores alike. Its output is
/// copied once into an unnamed file (`ArchiveSpool`) and read as a docker-archive.
enum ContainersStorage {
    struct Specifier: Equatable, Sendable {
        var driver: String?
        var root: String?
        var runRoot: String?
        var options: [String] = []

        /// Podman's global options for this store.
        var podmanOptions: [String] {
            (driver.map { ["--storage-driver", $0] } ?? []) + (root.map { ["--root", $0] } ?? [])
                + (runRoot.map { ["--runroot", $0] } ?? []) + options.flatMap { ["--storage-opt", $0] }
        }
    }

    /// Splits `[spec]NAME` as containers-transports(5) writes it.
    static func parse(_ text: String) throws(SourceError) -> (Specifier?, String) {
        guard text.hasPrefix("[") else { return (nil, try imageName(text)) }
        guard let close = text.firstIndex(of: "]") else {
            throw .invalidReference("containers-storage:\(text)", problem: "the store specifier has no closing ]")
        }
        var spec = Specifier()
        var inside = String(text[text.index(after: text.startIndex)..<close])
        if let colon = inside.firstIndex(of: ":") {
            spec.options = inside[inside.index(after: colon)...].split(separator: ",").map(String.init)
            inside = String(inside[..<colon])
        }
        if let at = inside.firstIndex(of: "@") {
            spec.driver = String(inside[..<at])
            inside = String(inside[inside.index(after: at)...])
        }
        let roots = inside.split(separator: "+", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        spec.root = roots.first.flatMap { $0.isEmpty ? nil : $0 }
        spec.runRoot = roots.count > 1 && !roots[1].isEmpty ? roots[1] : nil
        for path in [spec.root, spec.runRoot].compactMap({ $0 }) where !path.hasPrefix("/") {
            throw .invalidReference("containers-storage:\(text)", problem: "store paths must be absolute (\(path))")
        }
        return (spec, try imageName(String(text[text.index(after: close)...])))
    }

    /// An image name or ID, checked before it reaches Podman's command line.
    static func imageName(_ name: String) throws(SourceError) -> String {
        try ImageName.checked(name, source: "containers-storage:\(name)")
    }

    /// The image as a docker-archive copied out of the store; returns the path it is read through.
    static func archive(_ name: String, store: Specifier?, environment: [String: String]) throws(SourceError) -> String {
        let source = "containers-storage:\(name)"
        guard let podman = Executable.find("podman", in: environment["PATH"] ?? Executable.system) ?? Executable.find("podman", in: Executable.system)
        else {
            throw .io(path: source, reason: "reading containers-storage needs podman: install Debian's podman")
        }
        do {
            // Errors go to an unnamed file, read after: two pipes read in turn could fill one.
            let errors = try OwnedDescriptor(anonymousFileIn: NSTemporaryDirectory())
            let output = try PipeEnds("podman: pipe")
            let child = try ChildProcess(
                podman, (store?.podmanOptions ?? []) + ["image", "save", "--quiet", "--format", "docker-archive", name],
                environment: environment.isEmpty ? nil : environment, stdout: .descriptor(output.writing.raw), stderr: .descriptor(errors.raw))
            let reading = output.keepReading()
            let copied: Result<String, SourceError> = Result { () throws(SourceError) in try ArchiveSpool.copy(rest: reading.raw, from: source) }
            let status = try child.wait().shellStatus
            guard status == 0 else {
                _ = lseek(errors.raw, 0, SEEK_SET)
                let text = String(decoding: (try? FileIO.readToEnd(errors.raw, limit: 64 << 10, "podman")) ?? [], as: UTF8.self)
                let line = text.split(whereSeparator: \.isNewline).last.map(String.init) ?? "exit status \(status)"
                throw SourceError.io(path: source, reason: "podman image save failed: \(line)")
            }
            return try copied.get()
        } catch let error as SourceError {
            throw error
        } catch {
            throw .io(path: source, reason: "\(error)")
        }
    }
}
