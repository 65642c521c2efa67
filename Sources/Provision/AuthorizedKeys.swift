#if canImport(Glibc)
import Glibc
#endif

/// OpenSSH public keys from the user's files, checked before they go into a disk.
enum AuthorizedKeys {
    /// A public-key file is a few lines; anything this big is not one.
    static let maxFileBytes = 1 << 20

    /// The key types sshd accepts (after any `options`), as ssh-keygen writes them.
    static let keyTypes = [
        "ssh-ed25519", "ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com"
    ]

    /// The keys of every file, in order, one per line.
    static func read(_ paths: [String]) throws(ProvisionError) -> [String] {
        var keys: [String] = []
        for path in paths {
            let text = try ProvisionFiles.readText(path, limit: maxFileBytes)
            if text.contains("PRIVATE KEY") { throw .invalidKeyFile(path: path, reason: "this is a private key: give the .pub file") }
            let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).map { $0.trimmingCharacters() }
                .filter { !$0.isEmpty && !$0.hasPrefix("#") }
            guard !lines.isEmpty else { throw .invalidKeyFile(path: path, reason: "no public key in it") }
            for (number, line) in lines.enumerated() {
                let words = line.split(separator: " ").map(String.init)
                guard words.contains(where: keyTypes.contains) else {
                    throw .invalidKeyFile(path: path, reason: "line \(number + 1) is not an OpenSSH public key (no key type such as ssh-ed25519)")
                }
                keys.append(line)
            }
        }
        return keys
    }
}

/// Reads the user's small input files with one clear error each.
enum ProvisionFiles {
    static func readText(_ path: String, limit: Int) throws(ProvisionError) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .unreadable(path: path, reason: "not a regular file") }
        guard info.st_size <= limit else { throw .unreadable(path: path, reason: "larger than \(limit) bytes") }
        guard let file = fopen(path, "rb") else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let count = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        guard count == bytes.count else { throw .unreadable(path: path, reason: "short read") }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .unreadable(path: path, reason: "not UTF-8 text") }
        return text
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        var slice = self
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
