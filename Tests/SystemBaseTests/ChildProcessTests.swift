import Glibc
import SystemBase
import Testing

/// Programs run through posix_spawn: output, status, stderr, and no hang on large outputs.
@Suite struct ChildProcessTests {
    static func sh(_ script: String, environment: [String: String] = [:]) throws -> CollectedOutput {
        try ChildProcess.collect("/bin/sh", ["-c", script], environment: environment)
    }

    @Test func collectsOutputAndStatus() throws {
        let result = try Self.sh("printf 'out'; echo 'first error' >&2; echo second >&2; exit 3")
        #expect(result.output == Array("out".utf8))
        #expect(result.status == 3)
        #expect(result.errorLine == "first error")
    }

    @Test func passesExactlyTheEnvironmentAndNoInput() throws {
        let result = try Self.sh("echo \"$ONLY:${HOME:-unset}\"; cat", environment: ["ONLY": "this"])
        #expect(String(decoding: result.output, as: UTF8.self) == "this:unset\n")
    }

    @Test func drainsBothPipesOfLargeOutputs() throws {
        // 1 MiB on each stream: more than a pipe holds, so reading one after the other would hang.
        let result = try Self.sh("head -c 1048576 /dev/zero; head -c 1048576 /dev/zero >&2")
        #expect(result.output.count == 1 << 20 && result.errors.count == 1 << 20 && result.status == 0)
    }

    @Test func aSignalIsReportedAsShellsDo() throws {
        #expect(try Self.sh("kill -9 $$").status == 128 + 9)
    }

    @Test func aMissingProgramIsAnError() {
        #expect(throws: SystemError.call("cannot run /nonexistent/tool", errno: ENOENT)) { try ChildProcess.collect("/nonexistent/tool", [], environment: [:]) }
    }
}

/// Long-running children: signals reach only a child that is still there, and stop signals
/// reach the handler instead of ending the test process.
@Suite(.serialized) struct ChildLifetimeTests {
    @Test func aSignalEndsARunningChildAndWaitReportsIt() throws {
        let child = try ChildProcess("/bin/sleep", ["30"])
        #expect(child.isRunning)
        child.signal(SIGTERM)
        #expect(try child.wait() == .signalled(SIGTERM))
        #expect(!child.isRunning)
        #expect(try child.wait() == .signalled(SIGTERM))  // again, without a second waitpid
        child.signal(SIGKILL)  // reaped: nothing is sent (the pid may be someone else's now)
    }

    @Test func inheritedEnvironmentAndPipedStreams() throws {
        let output = try PipeEnds()
        let child = try ChildProcess("/bin/sh", ["-c", "echo \"${HOME:+home set}\""], stdout: .descriptor(output.writing.raw))
        let reading = output.keepReading()
        #expect(String(decoding: try FileIO.readToEnd(reading.raw, "read"), as: UTF8.self) == "home set\n")
        #expect(try child.wait() == .exited(0))
    }

    /// A descriptor opened without O_CLOEXEC (by a library, say) stays ours: the child sees
    /// only its three standard streams.
    @Test func strayDescriptorsAreNotInherited() throws {
        let stray = open("/dev/null", O_RDONLY)  // deliberately without O_CLOEXEC
        defer { close(stray) }
        #expect(stray > 2)
        let result = try ChildProcess.collect("/bin/sh", ["-c", "test -e /proc/self/fd/\(stray) && echo INHERITED || echo CLOSED"])
        #expect(String(decoding: result.output, as: UTF8.self) == "CLOSED\n")
    }

    @Test func inputReachesTheChild() throws {
        let result = try ChildProcess.collect("/bin/cat", [], input: Array("server\n".utf8))
        #expect(result.output == Array("server\n".utf8) && result.termination == .exited(0))
    }

    @Test func stopSignalsGoToTheHandler() throws {
        let seen = Seen()
        let signals = try StopSignals { seen.add($0) }
        kill(getpid(), SIGHUP)
        kill(getpid(), SIGTERM)
        for _ in 0..<200 where seen.numbers.count < 2 { usleep(10_000) }
        signals.cancel()
        #expect(seen.numbers == [SIGHUP, SIGTERM])
        var action = sigaction()
        sigaction(SIGTERM, nil, &action)
        #expect(action.__sigaction_handler.sa_handler == nil)  // SIG_DFL again
    }
}

private final class Seen: @unchecked Sendable {
    private var lock = pthread_mutex_t()
    private var list: [Int32] = []
    init() { pthread_mutex_init(&lock, nil) }
    func add(_ number: Int32) { pthread_mutex_lock(&lock); list.append(number); pthread_mutex_unlock(&lock) }
    var numbers: [Int32] { pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }; return list }
}
