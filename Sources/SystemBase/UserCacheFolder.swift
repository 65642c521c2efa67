#if canImport(Glibc)
import Glibc
#endif

/// Where oci2disk keeps what it reuses between runs (blobs, kernels, boot parts, disks):
/// `${XDG_CACHE_HOME:-$HOME/.cache}/oci2disk`, for the environment the caller gives (libraries
/// read none of their own). Without HOME, the user's home from the password database.
public enum UserCacheFolder {
    public static func path(environment: [String: String]) -> String {
        if let cache = environment["XDG_CACHE_HOME"], !cache.isEmpty { return cache + "/oci2disk" }
        return home(environment: environment) + "/.cache/oci2disk"
    }

    public static func home(environment: [String: String]) -> String {
        if let home = environment["HOME"], !home.isEmpty { return home }
        if let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir { return String(cString: directory) }
        return "/"
    }
}
