import GuestContract

/// The guest contract's files as the init reads them.
extension InitConfig {
    static func read(_ path: String) throws(InitError) -> InitConfig {
        let text = try FileSystem.readText(path)
        do { return try InitConfig(parsing: text) } catch { throw .config(error) }
    }
}

extension UserDatabase {
    /// The image's files under `root`; a missing file means no entries (an image without
    /// /etc/passwd still runs as root or a numeric uid).
    static func read(root: String) -> UserDatabase {
        UserDatabase(
            passwd: (try? FileSystem.readText(root + "/etc/passwd")) ?? "",
            group: (try? FileSystem.readText(root + "/etc/group")) ?? "")
    }
}
