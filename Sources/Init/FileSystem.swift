import Glibc
import SystemBase

/// The few file operations PID 1 needs, on plain paths, with errno kept in the error.
enum FileSystem {
    /// The whole file (up to `limit` bytes).
    static func readBytes(_ path: String, limit: Int = 1 << 20) throws(InitError) -> [UInt8] {
        let file = try open(path)
        do { return Array(try FileIO.readToEnd(file.raw, limit: limit, path).prefix(limit)) } catch {
            throw .system(operation: "read", path: path, errno: error.code)
        }
    }

    /// The file as text (invalid UTF-8 is replaced, never fatal).
    static func readText(_ path: String, limit: Int = 1 << 20) throws(InitError) -> String {
        String(decoding: try readBytes(path, limit: limit), as: UTF8.self)
    }

    /// `count` bytes at `offset`; fewer if the file is shorter.
    static func readBytes(_ path: String, offset: Int, count: Int) throws(InitError) -> [UInt8] {
        let file = try open(path)
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n: Int
            do {
                n = try buffer.withMutableSystemBytes { (all) throws(SystemError) in
                    try FileIO.read(file.raw, into: UnsafeMutableRawBufferPointer(rebasing: all[done...]), at: Int64(offset + done), path)
                }
            } catch { throw .system(operation: "read", path: path, errno: error.code) }
            if n == 0 { break }
            done += n
        }
        return Array(buffer[0..<done])
    }

    /// Creates or truncates `path` and writes `text`.
    static func write(_ path: String, _ text: String, mode: mode_t = 0o644) throws(InitError) {
        let file: OwnedDescriptor
        do { file = try OwnedDescriptor(opening: path, O_WRONLY | O_CREAT | O_TRUNC, mode: mode) } catch {
            throw .system(operation: "create", path: path, errno: error.code)
        }
        try writeAll(file.raw, Array(text.utf8), path: path)
    }

    /// Writes every byte, retrying short writes and EINTR.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(InitError) {
        do { try FileIO.writeFully(fd, bytes, path) } catch { throw .system(operation: "write", path: path, errno: error.code) }
    }

    private static func open(_ path: String) throws(InitError) -> OwnedDescriptor {
        do { return try OwnedDescriptor(opening: path, O_RDONLY) } catch { throw .system(operation: "open", path: path, errno: error.code) }
    }

    /// True if `path` exists (following symlinks).
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// True if `path` exists without following a final symlink.
    static func existsNoFollow(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// mkdir that accepts an existing directory.
    static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws(InitError) {
        if mkdir(path, mode) != 0 && !(errno == EEXIST && isDirectory(path)) {
            throw .system(operation: "mkdir", path: path, errno: errno)
        }
    }

    /// mkdir -p.
    static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(InitError) {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            try makeDirectory(prefix, mode: mode)
        }
    }

    /// Names in a directory, without `.` and `..`; empty if it cannot be read.
    static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else {
            return []
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." {
                names.append(name)
            }
        }
        return names.sorted()
    }
}
