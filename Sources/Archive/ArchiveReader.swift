import CArchive
#if canImport(Glibc)
import Glibc
#endif

/// Owns one libarchive read handle. Reads tar entries, or (format `.raw`) just decompresses a
/// stream. Input comes from a `ByteSource`, so archives nest: a blob inside an archive inside
/// a file. Errors thrown by the source win over libarchive's generic "read error".
public final class ArchiveReader {
    public enum Format: Sendable {
        /// tar (ustar, pax, GNU); an empty input is an empty archive.
        case tar
        /// The whole (decompressed) input as one stream: a decompressor.
        case raw
        /// Unix `ar` archives: Debian packages (`debian-binary`, `control.tar.*`, `data.tar.*`).
        case ar
    }

    public enum Filter: Sendable {
        case none, gzip, zstd
        /// Let libarchive recognise gzip, zstd or xz by their magic; anything else passes through.
        case detect
        /// Whatever a Linux kernel image may be compressed with: gzip, xz, zstd, lz4 (its
        /// legacy frames), bzip2 or lzma, recognised by their magic.
        case kernel
    }

    private var handle: OpaquePointer?
    private let context: ReadContext
    private let name: String

    /// - Parameter name: used in error messages, e.g. `layer sha256:…`.
    public init(source: any ByteSource, format: Format, filter: Filter, name: String) throws {
        guard let handle = archive_read_new() else { throw ArchiveError(message: "\(name): out of memory") }
        self.handle = handle
        self.name = name
        self.context = ReadContext(source: source)

        switch format {
        case .tar:
            archive_read_support_format_tar(handle)
            archive_read_support_format_empty(handle)
        case .raw:
            archive_read_support_format_raw(handle)
        case .ar:
            archive_read_support_format_ar(handle)
        }
        switch filter {
        case .none: break
        case .gzip: archive_read_append_filter(handle, ARCHIVE_FILTER_GZIP)
        case .zstd: archive_read_append_filter(handle, ARCHIVE_FILTER_ZSTD)
        case .detect:
            archive_read_support_filter_gzip(handle)
            archive_read_support_filter_zstd(handle)
            archive_read_support_filter_xz(handle)
        case .kernel:
            archive_read_support_filter_gzip(handle)
            archive_read_support_filter_zstd(handle)
            archive_read_support_filter_xz(handle)
            archive_read_support_filter_lz4(handle)
            archive_read_support_filter_bzip2(handle)
            archive_read_support_filter_lzma(handle)
        }
        let opaque = Unmanaged.passUnretained(context).toOpaque()
        let status = Self.inUTF8Locale { archive_read_open2(handle, opaque, nil, readCallback, skipCallback, nil) }
        try check(status)
        if format == .raw {
            // The raw format has exactly one entry: the stream itself.
            _ = try next()
        }
    }

    deinit {
        if let handle { archive_read_free(handle) }
    }

    /// The next entry's header, or nil at the end of the archive.
    public func next() throws -> ArchiveEntry? {
        try Self.inUTF8Locale {
            var entry: OpaquePointer?
            let status = archive_read_next_header(handle, &entry)
            if status == ARCHIVE_EOF { return nil }
            try check(status)
            guard let entry else { throw ArchiveError(message: "\(name): missing header") }
            return try Self.copy(entry, archiveName: name)
        }
    }

    /// Reads the current entry's data sequentially; 0 at its end.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = archive_read_data(handle, buffer.baseAddress, buffer.count)
        if n < 0 { try check(Int32(n)) }
        return n
    }

    /// The next block of the current entry's data with its offset in the file. Gaps between
    /// blocks are holes of a sparse entry. The bytes are valid until the next call.
    public func readBlock() throws -> (offset: Int64, bytes: UnsafeRawBufferPointer)? {
        var buffer: UnsafeRawPointer?
        var size = 0
        var offset: la_int64_t = 0
        let status = archive_read_data_block(handle, &buffer, &size, &offset)
        if status == ARCHIVE_EOF { return nil }
        try check(status)
        return (offset, UnsafeRawBufferPointer(start: buffer, count: size))
    }

    /// Throws the source's own error if it failed, else libarchive's message; warnings pass.
    private func check(_ status: Int32) throws {
        if status >= ARCHIVE_WARN { return }
        if let error = context.sourceError { throw error }
        let text = archive_error_string(handle).map { String(cString: $0) } ?? "error \(status)"
        throw ArchiveError(message: "\(name): \(text)")
    }

    /// libarchive converts pax UTF-8 names through the current locale, where "C" would mangle
    /// them. Rather than change the process's locale (a library has no business doing that),
    /// name handling runs under a UTF-8 locale set for this thread only, and restored after.
    /// libarchive reads the locale's charset while it reads a header, inside this scope.
    nonisolated(unsafe) private static let utf8Locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", nil)

    private static func inUTF8Locale<T>(_ body: () throws -> T) rethrows -> T {
        guard let utf8Locale else { return try body() }
        let previous = uselocale(utf8Locale)
        defer { uselocale(previous) }
        return try body()
    }

    private static func copy(_ entry: OpaquePointer, archiveName: String) throws -> ArchiveEntry {
        guard let pathPointer = archive_entry_pathname(entry) else {
            throw ArchiveError(message: "\(archiveName): an entry has no readable name")
        }
        let path = Array(UnsafeBufferPointer(start: UnsafeRawPointer(pathPointer).assumingMemoryBound(to: UInt8.self), count: strlen(pathPointer)))
        let mode = archive_entry_mode(entry)
        var kind: ArchiveEntry.Kind
        var target: [UInt8] = []
        if let hardlink = archive_entry_hardlink(entry) {
            kind = .hardlink
            target = bytes(hardlink)
        } else {
            switch mode & S_IFMT {
            case S_IFDIR: kind = .directory
            case S_IFLNK:
                kind = .symlink
                target = archive_entry_symlink(entry).map(bytes) ?? []
            case S_IFCHR: kind = .characterDevice
            case S_IFBLK: kind = .blockDevice
            case S_IFIFO: kind = .fifo
            case S_IFSOCK: kind = .socket
            default: kind = .regular
            }
        }
        var xattrs: [Xattr] = []
        if archive_entry_xattr_reset(entry) > 0 {
            var namePointer: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            while archive_entry_xattr_next(entry, &namePointer, &value, &size) == ARCHIVE_OK {
                guard let namePointer else { continue }
                let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
                xattrs.append(Xattr(name: String(cString: namePointer), value: bytes))
            }
        }
        var seconds = Int64(archive_entry_mtime(entry))
        var nanoseconds = Int64(archive_entry_mtime_nsec(entry))
        // libarchive reads a pax time "-1.5" as -1 s + 0.5 s: the fraction keeps its sign
        // positive. Tar writers (GNU tar, Go, Python) mean -1.5 s, i.e. -2 s + 0.5 s.
        if seconds < 0 && nanoseconds > 0 {
            seconds -= 1
            nanoseconds = 1_000_000_000 - nanoseconds
        }
        return ArchiveEntry(
            path: path, kind: kind, permissions: UInt16(mode & 0o7777),
            uid: Int64(archive_entry_uid(entry)), gid: Int64(archive_entry_gid(entry)),
            size: archive_entry_size_is_set(entry) != 0 ? Int64(archive_entry_size(entry)) : 0,
            mtimeSeconds: seconds, mtimeNanoseconds: Int32(nanoseconds),
            linkTarget: target,
            deviceMajor: UInt32(truncatingIfNeeded: archive_entry_rdevmajor(entry)),
            deviceMinor: UInt32(truncatingIfNeeded: archive_entry_rdevminor(entry)),
            xattrs: xattrs)
    }

    private static func bytes(_ pointer: UnsafePointer<CChar>) -> [UInt8] {
        Array(UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: strlen(pointer)))
    }
}

/// What the C callbacks see: the source, a buffer it fills, and the first error it threw.
private final class ReadContext {
    let source: any ByteSource
    let buffer: UnsafeMutableRawBufferPointer
    var sourceError: (any Error)?

    init(source: any ByteSource) {
        self.source = source
        self.buffer = .allocate(byteCount: 1 << 20, alignment: 64)
    }

    deinit { buffer.deallocate() }
}

private func readCallback(_ archive: OpaquePointer?, _ opaque: UnsafeMutableRawPointer?, _ out: UnsafeMutablePointer<UnsafeRawPointer?>?) -> la_ssize_t {
    let context = Unmanaged<ReadContext>.fromOpaque(opaque!).takeUnretainedValue()
    do {
        let n = try context.source.read(into: context.buffer)
        out?.pointee = UnsafeRawPointer(context.buffer.baseAddress)
        return n
    } catch {
        context.sourceError = error
        return -1
    }
}

private func skipCallback(_ archive: OpaquePointer?, _ opaque: UnsafeMutableRawPointer?, _ request: la_int64_t) -> la_int64_t {
    let context = Unmanaged<ReadContext>.fromOpaque(opaque!).takeUnretainedValue()
    do {
        return try context.source.skip(request)
    } catch {
        context.sourceError = error
        return -1
    }
}
