import CArchive
#if canImport(Glibc)
import Glibc
#endif

/// Owns one libarchive write handle producing a newc cpio (what Linux unpacks as an
/// initramfs), optionally gzip-compressed, into a file. `finish()` must be called and checked;
/// `deinit` only frees a handle that was never finished.
public final class ArchiveWriter {
    public enum Compression: Sendable { case none, gzip }

    private var handle: OpaquePointer?
    private let path: String
    private var nextInode: Int64 = 1

    public init(cpioAt path: String, compression: Compression) throws {
        guard let handle = archive_write_new() else { throw ArchiveError(message: "\(path): out of memory") }
        self.handle = handle
        self.path = path
        try check(archive_write_set_format_cpio_newc(handle))
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
    private func add(_ name: String, type: mode_t, permissions: UInt16, data: [UInt8], device: (UInt32, UInt32)? = nil, link: String? = nil) throws {
        guard let entry = archive_entry_new() else { throw ArchiveError(message: "\(path): out of memory") }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, name)
        archive_entry_set_mode(entry, type | mode_t(permissions))
        archive_entry_set_uid(entry, 0)
        archive_entry_set_gid(entry, 0)
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
            archive_entry_set_size(entry, la_int64_t(data.count))
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
