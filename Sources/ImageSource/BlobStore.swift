import Archive
import Foundation

/// Where an image's files live: a layout directory or a tar archive of one.
/// Paths are relative, with `/` separators (`blobs/sha256/…`, `manifest.json`).
public protocol BlobStore: AnyObject, Sendable {
    /// Opens one file for reading; a missing file throws `SourceError.missingBlob`.
    func open(_ path: String) throws -> any ByteSource
    /// Names of the top-level files, for recognising what kind of image this is.
    func topLevelNames() throws -> Set<String>
}

/// An OCI image layout on disk.
public final class DirectoryStore: BlobStore {
    public let root: String

    public init(root: String) { self.root = root }

    public func open(_ path: String) throws -> any ByteSource {
        do {
            return try FileByteSource.opening(root + "/" + path)
        } catch .notFound {
            throw SourceError.missingBlob(path)
        }
    }

    public func topLevelNames() throws -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
    }
}

/// A tar archive holding an image (oci-archive, docker-archive). Each open scans the headers
/// again, seeking over other members' data, so blobs are read straight out of the archive
/// once each, with no unpacked copy on disk.
public final class TarStore: BlobStore {
    public let archivePath: String
    /// How errors name the archive (the path, or "standard input" for its copy).
    let displayName: String

    public init(archivePath: String, displayName: String? = nil) throws(SourceError) {
        self.archivePath = archivePath
        self.displayName = displayName ?? archivePath
        _ = try FileByteSource.opening(archivePath)  // fail early with a clear error if missing
    }

    public func open(_ path: String) throws -> any ByteSource {
        try open(path, hops: 0)
    }

    /// Older `docker save` stores a layer shared by two images once and links the other name
    /// to it (`<id>/layer.tar -> ../<other>/layer.tar`), so member symlinks are followed.
    private func open(_ path: String, hops: Int) throws -> any ByteSource {
        let reader = try ArchiveReader(source: try FileByteSource.opening(archivePath), format: .tar, filter: .detect, name: displayName)
        while let entry = try reader.next() {
            guard Self.normalise(entry.path) == path else { continue }
            switch entry.kind {
            case .regular:
                return ArchiveMemberSource(reader: reader)
            case .symlink where hops < 8, .hardlink where hops < 8:
                let base = entry.kind == .symlink ? path.split(separator: "/").dropLast().map(String.init) : []
                var parts = base
                for part in Self.normalise(entry.linkTarget).split(separator: "/") {
                    if part == ".." { _ = parts.popLast() } else if part != "." { parts.append(String(part)) }
                }
                return try open(parts.joined(separator: "/"), hops: hops + 1)
            default:
                continue
            }
        }
        throw SourceError.missingBlob(path)
    }

    public func topLevelNames() throws -> Set<String> {
        let reader = try ArchiveReader(source: try FileByteSource.opening(archivePath), format: .tar, filter: .detect, name: displayName)
        var names: Set<String> = []
        while let entry = try reader.next() {
            let name = Self.normalise(entry.path)
            if !name.contains("/") { names.insert(name) }
        }
        return names
    }

    /// `./blobs/x` and `/blobs/x` name the same member as `blobs/x`.
    static func normalise(_ bytes: [UInt8]) -> String {
        var name = Substring(String(decoding: bytes, as: UTF8.self))
        while name.hasPrefix("./") { name = name.dropFirst(2) }
        while name.hasPrefix("/") { name = name.dropFirst() }
        return String(name)
    }
}

/// The data of the archive member a reader is positioned at.
final class ArchiveMemberSource: ByteSource {
    private let reader: ArchiveReader
    init(reader: ArchiveReader) { self.reader = reader }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try reader.read(into: buffer) }
}
