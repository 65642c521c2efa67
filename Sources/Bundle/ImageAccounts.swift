import Flatten
import GuestContract

extension UserDatabase {
    /// The flattened image's /etc/passwd and /etc/group (symlinks followed inside the image).
    /// A missing file means no entries; one that cannot be read is an error, not "no users"
    /// (which would quietly run a named user's process with other ids).
    init(tree: FileTree, spill: SpillFile) throws {
        func text(_ path: String) throws -> String {
            guard case .regular(let data)? = tree.resolve(path)?.content else { return "" }
            guard data.size <= 16 << 20 else { throw BundleError.accountFileTooLarge(path: path, bytes: data.size, limit: 16 << 20) }
            return String(decoding: try spill.read(data), as: UTF8.self)
        }
        self.init(passwd: try text("etc/passwd"), group: try text("etc/group"))
    }
}
