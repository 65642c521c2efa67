import CArchive
#if canImport(Glibc)
import Glibc
#endif

/// Owns one libarchive write handle producing a newc cpio (what Linux unpacks as an
/// initramfs) or a pax tar (an image layer), optionally gzip-compressed, into a file.
/// `finish()` must be called and checked; `deinit` only frees a handle never finished.
public final class ArchiveWriter {
    public enum Compression: Sendable { case none, gzip }
    public enum Format: Sendable { case cpio, pax }

    private var handle: OpaquePointer?
    private let path: String
    private var nextInode: Int64 = 1
    /// Owner given to entries (a containerDisk's files belong to qemu, 107:107).
    public var owner: (uid: Int64, gid: Int64) = (0, 0)

    public convenience init(cpioAt path: String, compression: Compression) throws {
        try self.init(path: path, format: .cpio, compression: compression)
    }

    public init(path: String, format: Format, compression: Compression) throws {
        guard let handle = archive_write_new() else { throw ArchiveError(message: "\(path): out of memory") }
        self.handle = handle
        self.path = path
        try check(format == .cpio ? archive_write_set_format_cpio_newc(handle) : archive_write_set_format_pax_restricted(handle))
        if compression == .gzip {
            try check(archive_write_add_filter_gzip(handle))
            // No timestamp in the gzip header: the same input must give the same bytes.
            try check(archive_write_set_filter_option(handle, "gzip", "timestamp", nil))
        }
        try check(archive_write_open_filename(handle, path))
    }

    deinit {
        if let handle { archive_write_free(handle) }
    }

    public func directory(_ path: String, permissions: UInt16 = 0o755) throws {
        try add(path, type: S_IFDIR, permissions: permissions, data: [])
    }

    public func file(_ path: String, permissions: UInt16 = 0o644, data: [UInt8]) throws {
        try add(path, type: S_IFREG, permissions: permissions, data: data)
    }

    public func characterDevice(_ path: String, permissions: UInt16, major: UInt32, minor: UInt32) throws {
        try add(path, type: S_IFCHR, permissions: permissions, data: [], device: (major, minor))
    }

    /// A regular file whose bytes come from a file on disk, streamed.
    public func file(_ path: String, permissions: UInt16 = 0o644, contentsOf source: String) throws {
        guard let input = fopen(source, "rb") else { throw ArchiveError(message: "\(source): cannot read") }
        defer { fclose(input) }
        fseeko(input, 0, SEEK_END)
        let size = ftello(input)
        fseeko(input, 0, SEEK_SET)
        try add(path, type: S_IFREG, permissions: permissions, data: [], size: Int64(size))
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, input) }
            if n == 0 { break }
            let written = buffer.withUnsafeBytes { archive_write_data(handle, $0.baseAddress, n) }
            guard written == n else { try check(Int32(ARCHIVE_FATAL)); return }
        }
    }

    public func symlink(_ path: String, target: String) throws {
        try add(path, type: S_IFLNK, permissions: 0o777, data: [], link: target)
    }

    /// Writes the trailer and closes the file.
    public func finish() throws {
        guard let handle else { return }
        let status = archive_write_close(handle)
        let message = archive_error_string(handle).map { String(cString: $0) }
        archive_write_free(handle)
        self.handle = nil
        if status != ARCHIVE_OK { throw ArchiveError(message: "\(path): \(message ?? "cannot finish the archive")") }
    }

    /// Every entry is root-owned with time 0 and a sequential inode number: reproducible.
    private func add(
        _ name: String, type: mode_t, permissions: UInt16, data: [UInt8], device: (UInt32, UInt32)? = nil, link: String? = nil,
        size: Int64? = nil
    ) throws {
        guard let entry = archive_entry_new() else { throw ArchiveError(message: "\(path): out of memory") }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, name)
        archive_entry_set_mode(entry, type | mode_t(permissions))
        archive_entry_set_uid(entry, owner.uid)
        archive_entry_set_gid(entry, owner.gid)
        archive_entry_set_mtime(entry, 0, 0)
        archive_entry_set_nlink(entry, type == S_IFDIR ? 2 : 1)
        archive_entry_set_ino64(entry, nextInode)
        nextInode += 1
        if let device {
            archive_entry_set_rdevmajor(entry, dev_t(device.0))
            archive_entry_set_rdevminor(entry, dev_t(device.1))
        }
        if let link {
            archive_entry_set_symlink(entry, link)
            archive_entry_set_size(entry, la_int64_t(link.utf8.count))
        } else {
            archive_entry_set_size(entry, la_int64_t(size ?? Int64(data.count)))
        }
        try check(archive_write_header(handle, entry))
        if !data.isEmpty {
            let written = data.withUnsafeBytes { archive_write_data(handle, $0.baseAddress, $0.count) }
            guard written == data.count else { try check(Int32(ARCHIVE_FATAL)); return }
        }
    }

    private func check(_ status: Int32) throws {
        guard status < ARCHIVE_WARN else { return }
        let message = archive_error_string(handle).map { String(cString: $0) } ?? "error \(status)"
        throw ArchiveError(message: "\(path): \(message)")
    }
}
