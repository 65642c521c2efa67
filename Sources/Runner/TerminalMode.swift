#if canImport(Glibc)
import Glibc
#endif

/// A terminal's settings, changed for `run` and put back afterwards.
struct TerminalMode {
    private let fd: Int32
    private var saved: termios

    /// Turns off canonical mode and echo on `fd` if it is a terminal; ISIG stays on (Ctrl-C
    /// and Ctrl-Z are still signals to us). nil when `fd` is not a terminal.
    static func passKeysThrough(_ fd: Int32) -> TerminalMode? {
        guard isatty(fd) == 1 else { return nil }
        var settings = termios()
        guard tcgetattr(fd, &settings) == 0 else { return nil }
        let mode = TerminalMode(fd: fd, saved: settings)
        settings.c_lflag &= ~tcflag_t(ICANON | ECHO | ECHONL | IEXTEN)
        withUnsafeMutableBytes(of: &settings.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        guard tcsetattr(fd, TCSANOW, &settings) == 0 else { return nil }
        return mode
    }

    func restore() {
        var settings = saved
        _ = tcsetattr(fd, TCSANOW, &settings)
    }
}
