#if canImport(Glibc)
import Glibc
#endif

/// Finds programs by name. The caller says where to look: `PATH` from the environment it was
/// given, or `system` for the tools oci2disk runs from Debian's packages (mtools, syslinux,
/// qemu-img), which a user's PATH must not be able to replace.
public enum Executable {
    /// Where Debian puts the tools a convert runs.
    public static let system = "/usr/bin:/bin"

    /// The first executable regular file `name` in the folders of `searchPath` (colon-separated),
    /// or nil. A name with a slash is taken as a path.
    public static func find(_ name: String, in searchPath: String) -> String? {
        if name.contains("/") { return isExecutableFile(name) ? name : nil }
        for folder in searchPath.split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = folder.hasSuffix("/") ? "\(folder)\(name)" : "\(folder)/\(name)"
            if isExecutableFile(candidate) { return candidate }
        }
        return nil
    }

    private static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG && access(path, X_OK) == 0
    }
}
