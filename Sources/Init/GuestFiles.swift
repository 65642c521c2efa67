import GuestContract
import Glibc

/// The guest contract's files as the init reads them.
extension InitConfig {
    static func read(_ path: String) throws(InitError) -> InitConfig {
        let text = try FileSystem.readText(path)
        do { return try InitConfig(parsing: text) } catch { throw .config(error) }
    }
}

extension UserDatabase {
    /// The image's files under `root`. A missing file means no entries (an image without
    /// /etc/passwd still runs as root or a numeric uid); one that cannot be read stops the
    /// boot, as the bundle writer refuses it, instead of running a named user as someone else.
    static func read(root: String) throws(InitError) -> UserDatabase {
        UserDatabase(passwd: try text(root + "/etc/passwd"), group: try text(root + "/etc/group"))
    }

    private static func text(_ path: String) throws(InitError) -> String {
        do {
            return try FileSystem.readText(path)
        } catch {
            if case .system(_, _, let code) = error, code == ENOENT { return "" }
            throw error
        }
    }
}
