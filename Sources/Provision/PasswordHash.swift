import CCrypt
#if canImport(Glibc)
import Glibc
#endif

/// crypt(5) hashes through libxcrypt, the library the images' own PAM and shadow use:
/// writing a password hash by hand would mean re-implementing yescrypt and SHA-crypt.
public enum PasswordHash {
    /// The methods a hash given by the user may use: the ones Debian's and most distributions'
    /// libcrypt verify. DES, MD5 and the like are refused as too weak to put on a disk.
    static let acceptedPrefixes = ["$y$", "$gy$", "$7$", "$2b$", "$2y$", "$6$", "$5$"]

    /// Checks a hash given with `--root-password-hash`: a known strong method, well formed
    /// (libxcrypt re-derives a hash of the same shape from it), and nothing that would break
    /// `/etc/shadow`'s line format.
    public static func validate(_ hash: String) throws(ProvisionError) {
        guard hash.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }) else {
            throw .malformedHash("a hash is printable ASCII without spaces or ':'")
        }
        guard let prefix = acceptedPrefixes.first(where: hash.hasPrefix) else {
            throw .malformedHash("not a yescrypt ($y$), SHA-512 ($6$), SHA-256 ($5$), bcrypt ($2b$) or scrypt ($7$) hash; make one with `mkpasswd -m yescrypt`")
        }
        guard crypt_checksalt(hash) == CRYPT_SALT_OK else { throw .malformedHash("libcrypt does not accept the \(prefix) settings in it") }
        // A well-formed hash re-hashes to one of the same length with the same settings.
        guard let probe = crypt(phrase: "oci2disk-probe", setting: hash), probe.utf8.count == hash.utf8.count,
            settings(of: probe) == settings(of: hash)
        else {
            throw .malformedHash("the hash is truncated or malformed for its method \(prefix)")
        }
    }

    /// Hashes `password` with the method `prefix` ("$y$" or "$6$"); the salt comes from
    /// `saltSeed`, so the same input gives the same disk.
    public static func hash(_ password: String, prefix: String, saltSeed: [UInt8]) throws(ProvisionError) -> String {
        var setting = [CChar](repeating: 0, count: Int(CRYPT_GENSALT_OUTPUT_SIZE))
        let made = saltSeed.withUnsafeBufferPointer { seed in
            crypt_gensalt_rn(
                prefix, 0, UnsafeRawPointer(seed.baseAddress).map { $0.assumingMemoryBound(to: CChar.self) }, Int32(seed.count),
                &setting, Int32(setting.count))
        }
        guard made != nil else { throw .hashingFailed("libcrypt cannot make \(prefix) settings: \(String(cString: strerror(errno)))") }
        let settingText = String(decoding: setting.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let hash = crypt(phrase: password, setting: settingText), hash.hasPrefix(prefix) else {
            throw .hashingFailed("libcrypt could not hash with \(prefix)")
        }
        return hash
    }

    /// The method crypt(3) should use for an image, as its `/etc/login.defs` says (Debian 11
    /// and later: YESCRYPT); SHA-512, which every glibc-era libcrypt and busybox verify, otherwise.
    public static func prefix(forLoginDefs text: String?) -> String {
        for line in (text ?? "").split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2, words[0] == "ENCRYPT_METHOD" else { continue }
            switch words[1].uppercased() {
            case "YESCRYPT": return "$y$"
            case "SHA256": return "$5$"
            default: return "$6$"
            }
        }
        return "$6$"
    }

    private static func crypt(phrase: String, setting: String) -> String? {
        var data = crypt_data()
        return withUnsafeMutableBytes(of: &data) { buffer -> String? in
            let size = Int32(buffer.count)
            guard let result = crypt_rn(phrase, setting, buffer.baseAddress, size) else { return nil }
            let text = String(cString: result)
            // The work area held the phrase: not left on the stack.
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            // libxcrypt's failure tokens start with '*'.
            return text.hasPrefix("*") ? nil : text
        }
    }

    /// Everything before the last `$`: method, parameters and salt.
    private static func settings(of hash: String) -> Substring {
        hash[..<(hash.lastIndex(of: "$") ?? hash.endIndex)]
    }
}
