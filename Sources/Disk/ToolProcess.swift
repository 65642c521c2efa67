import CShim
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a short-lived tool (mtools, syslinux, qemu-img) and collects its output.
///
/// Why not Foundation's `Process`: on Linux its `waitUntilExit` polls a run loop and returned
/// about 40 ms after the child had exited, measured here, against under 1 ms for posix_spawn
/// and waitpid. `convert` runs such a tool several times per bootable disk and `run` once
/// before the guest starts, so the polling alone was a noticeable share of both.
public enum ToolProcess {
    public struct Result: Sendable {
        public let status: Int32
        public let output: [UInt8]
        public let errors: [UInt8]

        /// The first line of stderr (or the exit status), for one-line error messages.
        public var errorLine: String {
            String(decoding: errors, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? "exit status \(status)"
        }
    }

    /// Runs `path` with `arguments` and exactly `environment`, stdin from /dev/null; waits for it.
    public static func run(_ path: String, _ arguments: [String], environment: [String: String]) throws -> Result {
        var outputPipe: [Int32] = [-1, -1], errorPipe: [Int32] = [-1, -1]
        guard cz_pipe_cloexec(&outputPipe) == 0 else { throw DiskError.io("\(path): cannot create a pipe: \(String(cString: strerror(errno)))") }
        guard cz_pipe_cloexec(&errorPipe) == 0 else {
            close(outputPipe[0]); close(outputPipe[1])
            throw DiskError.io("\(path): cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errorPipe[1], 2)

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, envp)
        close(outputPipe[1])
        close(errorPipe[1])
        defer { close(outputPipe[0]); close(errorPipe[0]) }
        guard spawned == 0 else { throw DiskError.io("cannot run \(path): \(String(cString: strerror(spawned)))") }

        // Both pipes drained at once: a tool that fills one while we read the other would hang.
        nonisolated(unsafe) var errors: [UInt8] = []
        let reading = DispatchGroup()
        let errorDescriptor = errorPipe[0]
        DispatchQueue.global().async(group: reading) { errors = readAll(errorDescriptor) }
        let output = readAll(outputPipe[0])
        reading.wait()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw DiskError.io("\(path): waitpid failed: \(String(cString: strerror(errno)))") }
        }
        // Exit status, or 128 + signal as shells report it.
        let code = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return Result(status: code, output: output, errors: errors)
    }

    private static func readAll(_ fd: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 { bytes += chunk[0..<n]; continue }
            if n < 0 && errno == EINTR { continue }
            return bytes
        }
    }
}
