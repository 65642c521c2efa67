import CExt2fs
import CExt2fsShim
#if canImport(Glibc)
import Glibc
#endif

/// Owns one libext2fs filesystem handle. `close()` finalises the filesystem (superblock,
/// descriptors, bitmaps) and must be called and checked; `deinit` only frees a handle that
/// was never closed, writing nothing. No other code sees the C pointer's lifetime.
public final class Ext2Filesystem {
    /// The handle, for the writer and reader in this module only.
    private(set) var fs: ext2_filsys?

    private init(_ fs: ext2_filsys) { self.fs = fs }

    deinit {
        if let fs { ext2fs_free(fs) }
    }

    /// Turns a libext2fs error code into a Swift error carrying libext2fs' message.
    static func check(_ code: errcode_t, _ operation: @autoclosure () -> String) throws(Ext4Error) {
        guard code != 0 else { return }
        _ = errorTable
        throw .libext2fs(operation: operation(), message: String(cString: error_message(code)))
    }

    /// Without this, messages read "Unknown code ext2 NN".
    private static let errorTable: Void = { initialize_ext2_error_table() }()

    /// Lays out a new filesystem (in memory until `close`) at `offset` bytes into `path`.
    static func create(path: String, offset: Int64, parameters: inout ext2_super_block) throws(Ext4Error) -> Ext2Filesystem {
        var handle: ext2_filsys?
        try check(ext2fs_initialize(path, EXT2_FLAG_64BITS, &parameters, ext2shim_unix_io_manager(), &handle), "initialize \(path)")
        let filesystem = Ext2Filesystem(handle!)
        // ext2fs_initialize ignores "name?offset=N"; the offset is set on the channel instead.
        if offset != 0 {
            try check(io_channel_set_options(handle!.pointee.io, "offset=\(offset)"), "set offset")
        }
        return filesystem
    }

    /// Opens an existing filesystem read-only at `offset` bytes into `path`.
    public static func open(path: String, offset: Int64) throws(Ext4Error) -> Ext2Filesystem {
        var handle: ext2_filsys?
        let flags = EXT2_FLAG_64BITS | EXT2_FLAG_IGNORE_CSUM_ERRORS
        try check(
            ext2fs_open2(path, offset == 0 ? nil : "offset=\(offset)", flags, 0, 0, ext2shim_unix_io_manager(), &handle),
            "open \(path)")
        // The bitmaps are not read: nothing the reader reports needs them (the counts are the
        // superblock's), and libext2fs 1.47's bitmap loader overflows a heap buffer on a crafted
        // image (found by scripts/fuzz's ext4 target: a memcpy in the bit-array backend).
        return Ext2Filesystem(handle!)
    }

    /// How many blocks a filesystem of `blocks` blocks and about `inodes` inodes leaves free
    /// for files, after its own metadata and journal; computed by libext2fs itself, on a
    /// layout that is never written.
    static func usableBlocks(blocks: UInt64, inodes: UInt32, parameters: ext2_super_block) throws(Ext4Error) -> Int64 {
        var parameters = parameters
        Ext4Parameters.setCounts(&parameters, blocks: blocks, inodes: inodes)
        var handle: ext2_filsys?
        try check(ext2fs_initialize("/dev/null", EXT2_FLAG_64BITS, &parameters, ext2shim_unix_io_manager(), &handle), "lay out \(blocks) blocks")
        defer { ext2fs_free(handle) }
        let free = Int64(ext2fs_free_blocks_count(handle!.pointee.super))
        let journal = Int64(max(0, ext2fs_default_journal_size(blocks)))
        return free - journal
    }

    /// Writes everything libext2fs holds and releases the handle. Errors here mean the
    /// filesystem is incomplete, so they are never ignored.
    ///
    /// Without fsync (EXT2_FLAG_FLUSH_NO_SYNC): by default libext2fs syncs the image twice while
    /// closing, which was about half of a Debian convert's time here (two fsyncs of 0.4 s each,
    /// measured with strace). A disk image is written like any file `cp` or `qemu-img convert`
    /// writes: the page cache holds it, and the output is renamed into place afterwards.
    public func close() throws(Ext4Error) {
        guard let handle = fs else { return }
        fs = nil
        let status = ext2fs_close2(handle, Int32(EXT2_FLAG_FLUSH_NO_SYNC))
        if status != 0 {
            // ext2fs_close2 frees the handle only when it succeeds.
            ext2fs_free(handle)
            try Self.check(status, "close")
        }
    }
}
