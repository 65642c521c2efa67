import CInitShim
import Glibc

/// The end of every boot that does not exec the image's init: stop what is left, put the disk
/// in order, report the status on every channel the host may watch, and power off.
enum Shutdown {
    /// The line a host looks for: `^oci2disk: exit status (\d+)$`.
    static func exitLine(_ status: Int32) -> String {
        "oci2disk: exit status \(status)"
    }

    /// - status: the command's exit status (0–255), or 125 for a failure of this init.
    /// - mounts: mounts to undo, in the order they were made.
    /// - root: the root filesystem's mount point, remounted read-only; nil if none is mounted.
    static func finish(status: Int32, mounts: [String], root: String?, console: Console) -> Never {
        terminateAll(console: console)
        sync()
        // Opened before /dev goes away; written last, after the disk is consistent.
        let statusPort = oi_open_serial("/dev/ttyS1")
        for mountPoint in mounts.reversed() {
            Mounts.unmount(mountPoint)
        }
        if let root {
            do {
                try Mounts.remountReadOnly(root)
            } catch {
                console.warn(error.description)
            }
        }
        sync()

        // A newline first: the command's last output line may lack one, and the host must find
        // the exit line at the start of a line.
        Console.write("\n\(exitLine(status))\n")
        if statusPort >= 0 {
            try? FileSystem.writeAll(statusPort, Array("\(status)\n".utf8), path: "/dev/ttyS1")
            tcdrain(statusPort)
            close(statusPort)
        }
        // QEMU's isa-debug-exit: QEMU exits with (value << 1) | 1. Without the device the write
        // goes nowhere.
        _ = oi_outb(UInt8(status & 0x7F), 0xF4)
        oi_power_off()
        Console.error("power off failed: \(errnoText(errno))")
        // PID 1 must never exit (the kernel would panic); wait for the host to stop the machine.
        while true {
            pause()
        }
    }

    /// SIGTERM to every process, up to 1 s to exit, then SIGKILL; reaps them all.
    static func terminateAll(console: Console) {
        kill(-1, SIGTERM)
        if waitForChildren(milliseconds: 1000) {
            return
        }
        console.step("sending SIGKILL to the remaining processes")
        kill(-1, SIGKILL)
        _ = waitForChildren(milliseconds: 2000)
    }

    /// Reaps until no child is left (true) or the time is up (false).
    private static func waitForChildren(milliseconds: Int32) -> Bool {
        var status: Int32 = 0
        var left = milliseconds
        let start = RootDevice.monotonicSeconds()
        while left > 0 {
            let pid = oi_reap_wait(&status, left)
            if pid < 0 {
                return errno == ECHILD
            }
            if pid == 0 {
                return false
            }
            left = milliseconds - Int32((RootDevice.monotonicSeconds() - start) * 1000)
        }
        return false
    }
}
