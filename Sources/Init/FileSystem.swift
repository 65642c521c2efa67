import Glibc

/// The few file operations PID 1 needs, on plain paths, with errno kept in the error.
enum FileSystem {
    /// The whole file (up to `limit` bytes).
    static func readBytes(_ path: String, limit: Int = 1 << 20) throws(InitError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw .system(operation: "open", path: path, errno: errno)
        }
        defer { close(fd) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while data.count < limit {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, limit - data.count)) }
            if n < 0 {
                if errno == EINTR {
                    continue
                }
                throw .system(operation: "read", path: path, errno: errno)
            }
            if n == 0 {
                break
            }
            data.append(contentsOf: chunk[0..<n])
        }
        return data
    }

    /// The file as text (invalid UTF-8 is replaced, never fatal).
    static func readText(_ path: String, limit: Int = 1 << 20) throws(InitError) -> String {
        String(decoding: try readBytes(path, limit: limit), as: UTF8.self)
    }

    /// `count` bytes at `offset`; fewer if the file is shorter.
    static func readBytes(_ path: String, offset: Int, count: Int) throws(InitError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw .system(operation: "open", path: path, errno: errno)
        }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 {
                if errno == EINTR {
                    continue
                }
                throw .system(operation: "read", path: path, errno: errno)
            }
            if n == 0 {
                break
            }
            done += n
        }
        return Array(buffer[0..<done])
    }

    /// Creates or truncates `path` and writes `text`.
    static func write(_ path: String, _ text: String, mode: mode_t = 0o644) throws(InitError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw .system(operation: "create", path: path, errno: errno)
        }
        defer { close(fd) }
        try writeAll(fd, Array(text.utf8), path: path)
    }

    /// Writes every byte, retrying short writes and EINTR.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(InitError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR {
                    continue
                }
                throw .system(operation: "write", path: path, errno: errno)
            }
            done += n
        }
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
