import GuestContract
import Glibc

/// A failure that stops the boot before the command runs. PID 1 prints
/// `oci2disk-init: <description>` and then the exit line with status 125.
enum InitError: Error, CustomStringConvertible, Equatable {
    /// /oci2disk/config cannot be used.
    case config(InitConfigError)
    /// A kernel command line parameter of ours that cannot be used.
    case badCommandLine(parameter: String, reason: String)
    /// A system call on a path failed.
    case system(operation: String, path: String, errno: Int32)
    /// No block device carried a filesystem with the root UUID within the wait.
    case rootNotFound(uuid: String, seconds: Int)
    /// The `user` value names a user or group the image does not define.
    case unknownUser(String)
    /// Neither the config nor the kernel command line gives a command.
    case noCommand

    var description: String {
        switch self {
        case .config(let error):
            return error.description
        case .badCommandLine(let parameter, let reason):
            return "kernel command line: \(parameter): \(reason)"
        case .system(let operation, let path, let errno):
            return "\(operation) \(path): \(errnoText(errno))"
        case .rootNotFound(let uuid, let seconds):
            return "no block device with an ext4 filesystem UUID=\(uuid) appeared within \(seconds) s"
        case .unknownUser(let reason):
            return reason
        case .noCommand:
            return "no command to run: the image has no Entrypoint or Cmd; give one with `oci2disk run DISK -- COMMAND…` (or convert with --cmd)"
        }
    }
}

/// strerror(3) as a Swift string.
func errnoText(_ code: Int32) -> String {
    String(cString: strerror(code))
}
