import GuestContract
import Flatten

/// The programs a disk will start, looked up in the flattened image the way the guest init
/// will: symlinks resolved inside the image, bare names searched in the command's `PATH`,
/// relative names from its working folder.
public enum ImagePrograms {

    /// System mode hands PID 1 to this program: it must be there and executable.
    public static func checkSystemInit(_ path: String, in tree: FileTree) throws(BootError) {
        guard let inode = tree.resolve(path) else { throw .systemInit(path: path, reason: "is missing (after following its symlinks inside the image)") }
        guard case .regular = inode.content else { throw .systemInit(path: path, reason: "is not a regular file") }
        guard inode.metadata.permissions & 0o111 != 0 else {
            throw .systemInit(path: path, reason: "is not executable (mode \(String(inode.metadata.permissions, radix: 8)))")
        }
    }

    /// Where the app-mode command's program is, or nil when the image has none there. Not an
    /// error: the program may be made at run time (a volume, an earlier step of a script).
    public static func findCommand(_ config: InitConfig, in tree: FileTree) -> String? {
        guard let command = config.arguments.first, !command.isEmpty else { return nil }
        let workdir = config.workingDirectory.map { $0.hasPrefix("/") ? $0 : "/" + $0 } ?? "/"
        func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : workdir + "/" + path }
        if command.contains("/") {
            return isExecutable(absolute(command), in: tree) ? absolute(command) : nil
        }
        let path = config.environment.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? GuestDefaults.path
        for directory in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = absolute(directory.isEmpty ? command : directory + "/" + command)
            if isExecutable(candidate, in: tree) { return candidate }
        }
        return nil
    }

    /// The one-line warning `convert` prints when the command's program is not in the image.
    public static func missingCommandWarning(_ config: InitConfig, in tree: FileTree) -> String? {
        guard let command = config.arguments.first, findCommand(config, in: tree) == nil else { return nil }
        let where_ = command.contains("/") ? "" : " in its PATH"
        return "the image has no executable \"\(command)\"\(where_): the disk will boot, but the command fails (exit 127) "
            + "unless the program is made at run time"
    }

    private static func isExecutable(_ path: String, in tree: FileTree) -> Bool {
        guard let inode = tree.resolve(path), case .regular = inode.content else { return false }
        return inode.metadata.permissions & 0o111 != 0
    }
}
