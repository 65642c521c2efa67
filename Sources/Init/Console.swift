import CInitShim
import Glibc
import SystemBase

/// PID 1's own output. It goes to fd 2, which is /dev/console: the kernel opens it for init when
/// the initramfs has a /dev/console node, and `attachStandardStreams` opens it once devtmpfs is
/// mounted when the kernel could not.
struct Console {
    static let device = "/dev/console"

    /// Print timestamped progress lines (`oci2disk.debug` on the kernel command line).
    var debug = false

    /// Writes text to fd 2 as is; errors are ignored (there is nowhere else to report them).
    static func write(_ text: String) {
        try? FileIO.writeFully(2, Array(text.utf8), "console")
    }

    /// `oci2disk-init: <message>`: a fatal error or a failed command.
    static func error(_ message: String) {
        write("oci2disk-init: \(message)\n")
    }

    /// `oci2disk-init: warning: <message>`: something failed but the boot goes on.
    func warn(_ message: String) {
        Console.write("oci2disk-init: warning: \(message)\n")
    }

    /// `oci2disk-init: [uptime] <message>`, only in debug mode.
    func step(_ message: @autoclosure () -> String) {
        guard debug else {
            return
        }
        Console.write("oci2disk-init: [\(Console.uptime())] \(message())\n")
    }

    /// Makes fds 0-2 the console if the kernel could not open it (no /dev/console in the cpio).
    static func attachStandardStreams() {
        let missing = (0...2).contains { fcntl($0, F_GETFD) < 0 }
        guard missing else {
            return
        }
        let fd = open(device, O_RDWR | O_NOCTTY)
        guard fd >= 0 else {
            return
        }
        _ = oi_dup_to_stdio(fd)
        if fd > 2 {
            close(fd)
        }
    }

    /// Seconds since boot, from /proc/uptime ("?" if unreadable).
    static func uptime() -> String {
        guard let text = try? FileSystem.readText("/proc/uptime", limit: 64),
            let first = text.split(separator: " ").first
        else {
            return "?"
        }
        return String(first)
    }
}
