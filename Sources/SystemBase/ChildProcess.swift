import CLinux
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How a child process ended.
public enum Termination: Equatable, Sendable {
    case exited(Int32)
    case signalled(Int32)

    /// The status as shells report it: the exit code, or 128 + the signal.
    public var shellStatus: Int32 {
        switch self {
        case .exited(let code): code
        case .signalled(let signal): 128 + signal
        }
    }
}

/// A program started with posix_spawn, waited for once.
///
/// Why not Foundation's `Process`: on Linux its `waitUntilExit` polls a run loop and returned
/// about 40 ms after the child had exited, measured here, against under 1 ms for posix_spawn
/// and waitpid; and it cannot be used from the guest init, which has no Foundation.
public final class ChildProcess: Sendable {
    /// Where one of the child's standard streams goes.
    public enum Stream: Sendable {
        /// The same file as ours.
        case inherit
        /// /dev/null.
        case null
        /// A descriptor of ours (typically one end of a `PipeEnds`), duplicated into the child.
        case descriptor(Int32)
    }

    public let pid: pid_t
    public let path: String
    /// nil while running; the status once reaped (after which the pid may belong to another
    /// process, so `signal` must not use it).
    private let ended = Mutex<Termination?>(nil)

    /// Starts `path` with `arguments`. `environment` nil passes ours on; otherwise exactly it.
    /// `directory`: where the child starts (nil: ours).
    public init(
        _ path: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
        stdin: Stream = .null, stdout: Stream = .inherit, stderr: Stream = .inherit
    ) throws(SystemError) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let directory {
            let code = linux_spawn_chdir(&actions, directory)
            guard code == 0 else { throw .call("\(directory): start \(path) in it", errno: code) }
        }
        for (stream, target) in [(stdin, Int32(0)), (stdout, 1), (stderr, 2)] {
            switch stream {
            case .inherit: break
            case .null: posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            case .descriptor(let fd): posix_spawn_file_actions_adddup2(&actions, fd, target)
            }
        }
        // The child starts with no signal blocked and the stop signals at their defaults,
        // whatever this process (or the thread spawning) has set: both survive exec otherwise,
        // and a QEMU that ignores SIGTERM cannot be stopped.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t(), defaults = sigset_t()
        sigemptyset(&noSignals)
        sigemptyset(&defaults)
        for number in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        // Nothing else of ours reaches the child: descriptors some library opened without
        // O_CLOEXEC (Foundation's file writes, say) would otherwise live on in it; one that
        // holds a script open for writing makes that script's exec fail (ETXTBSY, seen in tests).
        linux_spawn_close_from(&actions, 3)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for pointer in argv + (envp ?? []) { free(pointer) } }
        var child: pid_t = 0
        let spawned = envp.map { posix_spawn(&child, path, &actions, &attributes, argv, $0) } ?? posix_spawn(&child, path, &actions, &attributes, argv, environ)
        guard spawned == 0 else { throw .call("cannot run \(path)", errno: spawned) }
        pid = child
        self.path = path
    }

    /// Blocks until the child ends, reaps it, and returns how it ended (again on later calls).
    public func wait() throws(SystemError) -> Termination {
        if let done = ended.withLock({ $0 }) { return done }
        // Wait without reaping, so that a `signal` racing with us still hits this child (a
        // zombie), never a new process that was given the pid.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 {
            guard errno == EINTR else { throw .lastError("\(path): wait") }
        }
        return try ended.withLock { (done) throws(SystemError) -> Termination in
            if let done { return done }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 {
                guard errno == EINTR else { throw .lastError("\(path): wait") }
            }
            let result: Termination = status & 0x7F == 0 ? .exited((status >> 8) & 0xFF) : .signalled(status & 0x7F)
            done = result
            return result
        }
    }

    /// Whether the child has ended (without reaping it).
    public var isRunning: Bool {
        if ended.withLock({ $0 }) != nil { return false }
        return linux_child_has_ended(pid) == 0
    }

    /// Sends `number` unless the child has been reaped.
    public func signal(_ number: Int32) {
        ended.withLock { done in if done == nil { _ = kill(pid, number) } }
    }
}

/// A short-lived program's complete output.
public struct CollectedOutput: Sendable {
    public let termination: Termination
    public let output: [UInt8]
    public let errors: [UInt8]

    public var status: Int32 { termination.shellStatus }

    /// The first line of stderr (or the exit status), for one-line error messages.
    public var errorLine: String {
        String(decoding: errors, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? "exit status \(status)"
    }
}

extension ChildProcess {
    /// Runs `path` to its end and collects stdout and stderr. `input` (at most PIPE_BUF bytes)
    /// is in the stdin pipe before the child starts, so a child that exits without reading it
    /// cannot make the write raise SIGPIPE; without it stdin is /dev/null.
    public static func collect(
        _ path: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
        input: [UInt8]? = nil
    ) throws(SystemError) -> CollectedOutput {
        let output = try PipeEnds("\(path): pipe"), errors = try PipeEnds("\(path): pipe")
        var stdin: ChildProcess.Stream = .null
        var inputPipe: PipeEnds?
        if let input {
            precondition(input.count <= Int(PIPE_BUF), "more input than a pipe holds")
            let pipe = try PipeEnds("\(path): pipe")
            try FileIO.writeFully(pipe.writing.raw, input, "\(path): input")
            stdin = .descriptor(pipe.reading.raw)
            inputPipe = consume pipe
        }
        let child = try ChildProcess(
            path, arguments, environment: environment, directory: directory, stdin: stdin,
            stdout: .descriptor(output.writing.raw), stderr: .descriptor(errors.writing.raw))
        _ = consume inputPipe
        let outputEnd = output.keepReading(), errorEnd = errors.keepReading()
        let collected: ([UInt8], [UInt8])
        do {
            collected = try drain(outputEnd.raw, errorEnd.raw, "\(path): output")
        } catch {
            // No child is left behind, running or unreaped, when its output cannot be read.
            child.signal(SIGKILL)
            _ = try? child.wait()
            throw error
        }
        return CollectedOutput(termination: try child.wait(), output: collected.0, errors: collected.1)
    }

    /// Reads two pipes to their ends at once: a child that fills one while we read the other
    /// would otherwise hang.
    private static func drain(_ first: Int32, _ second: Int32, _ what: @autoclosure () -> String) throws(SystemError) -> ([UInt8], [UInt8]) {
        var collected: [[UInt8]] = [[], []]
        var open = [true, true]
        var chunk = [UInt8](repeating: 0, count: 65536)
        while open[0] || open[1] {
            var fds = [
                pollfd(fd: open[0] ? first : -1, events: Int16(POLLIN), revents: 0),
                pollfd(fd: open[1] ? second : -1, events: Int16(POLLIN), revents: 0)
            ]
            try systemCall(what()) { poll(&fds, 2, -1) }
            for index in 0..<2 where open[index] && fds[index].revents != 0 {
                let n = try chunk.withMutableSystemBytes { (buffer) throws(SystemError) in try FileIO.read(fds[index].fd, into: buffer, what()) }
                if n == 0 { open[index] = false } else { collected[index] += chunk[0..<n] }
            }
        }
        return (collected[0], collected[1])
    }
}
