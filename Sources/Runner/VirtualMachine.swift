import Foundation
import SystemBase
#if canImport(Glibc)
import Glibc
#endif

/// How a VM run ended.
public struct RunOutcome: Sendable {
    /// The guest program's exit status as the init reported it.
    public var status: Int32?
    public var qemuExitCode: Int32
    public var qemuErrors: String
    public var timedOut = false
    public var signal: Int32?
    public var recentOutput: [String] = []
}

/// Runs QEMU to completion: streams the guest console to our stdout (filtered), forwards our
/// stdin, enforces the timeout, and stops the VM on Ctrl-C or SIGTERM. No QEMU outlives it.
public enum VirtualMachine {
    public static func run(
        _ configuration: MachineConfiguration, timeout: Double?, verbose: Bool,
        output: @escaping @Sendable ([UInt8]) -> Void
    ) throws -> RunOutcome {
        guard let qemu = Executable.find(MachineConfiguration.qemuBinary, in: configuration.searchPath) else {
            throw RunError.qemu("\(MachineConfiguration.qemuBinary) not found: install Debian's qemu-system-x86")
        }
        var passt: Passt?
        if case .isolated(let socket) = configuration.network { passt = try Passt(configuration, socket: socket) }
        defer { passt?.stop() }
        let console = try PipeEnds("console pipe"), errors = try PipeEnds("error pipe"), input = try PipeEnds("input pipe")
        let state = RunState(verbose: verbose)
        let process: ChildProcess
        do {
            process = try ChildProcess(
                qemu, configuration.arguments(), stdin: .descriptor(input.reading.raw),
                stdout: .descriptor(console.writing.raw), stderr: .descriptor(errors.writing.raw))
        } catch {
            throw RunError.qemu("\(error)")
        }
        // Only QEMU holds these ends now: its exit closes them, which ends the readers.
        let consoleEnd = console.keepReading().release(), errorEnd = errors.keepReading().release(), inputEnd = input.keepWriting().release()

        // Ctrl-C and SIGTERM stop the VM; we report and exit after QEMU is gone.
        let stopSignals: StopSignals
        do {
            stopSignals = try StopSignals { signalNumber in state.stop(process, signal: signalNumber) }
        } catch {
            // Without them Ctrl-C would leave QEMU running: no VM, then.
            process.signal(SIGKILL)
            _ = try? process.wait()
            for fd in [consoleEnd, errorEnd, inputEnd] { close(fd) }
            throw RunError.system(error)
        }
        defer { stopSignals.cancel() }

        let group = DispatchGroup()
        group.enter()
        Thread.detachNewThread {
            defer { close(consoleEnd) }
            var chunk = [UInt8](repeating: 0, count: 65536)
            while let n = try? chunk.withMutableSystemBytes({ (buffer) throws(SystemError) in try FileIO.read(consoleEnd, into: buffer, "console") }), n > 0 {
                let shown = state.feed(Array(chunk[0..<n]))
                if !shown.isEmpty { output(shown) }
            }
            let rest = state.finish()
            if !rest.isEmpty { output(rest) }
            group.leave()
        }
        let errorText = ErrorCollector()
        group.enter()
        Thread.detachNewThread {
            defer { close(errorEnd) }
            errorText.set((try? FileIO.readToEnd(errorEnd, "qemu stderr")) ?? [])
            group.leave()
        }
        let terminal = TerminalMode.passKeysThrough(STDIN_FILENO)
        defer { terminal?.restore() }
        forwardStandardInput(to: inputEnd)

        var timer: (any DispatchSourceTimer)?
        if let timeout {
            let source = DispatchSource.makeTimerSource(queue: .global())
            source.schedule(deadline: .now() + timeout)
            source.setEventHandler { state.timeOut(process) }
            source.resume()
            timer = source
        }
        let termination = try process.wait()
        timer?.cancel()
        group.wait()

        // ttyS1 is written by the init alone; the console line is a fallback, since the
        // program itself could print a look-alike.
        var outcome = RunOutcome(
            status: statusFromFile(configuration.statusFile) ?? state.status, qemuExitCode: termination.shellStatus,
            qemuErrors: errorText.text)
        outcome.timedOut = state.timedOut
        outcome.signal = state.signal
        outcome.recentOutput = state.recent
        return outcome
    }

    /// ttyS1 gets `N\n` from the init: the status even if the console line was garbled.
    static func statusFromFile(_ path: String) -> Int32? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return text.split(whereSeparator: \.isNewline).last.flatMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// What is typed on our stdin goes to the guest console. On a terminal, keys go as typed,
    /// without our echo or line editing: the guest's tty echoes (and hides a password) itself.
    /// Signal keys stay ours, so Ctrl-C still stops the VM instead of reaching the guest.
    private static func forwardStandardInput(to fd: Int32) {
        Thread.detachNewThread {
            // A write after QEMU has exited must fail with EPIPE, not kill oci2disk with SIGPIPE
            // before it reports the guest's status. Blocked in this thread only: the signal a
            // failed write raises goes to the writing thread, and is dropped when the thread ends.
            blockSignalInThisThread(SIGPIPE)
            defer { close(fd) }
            var chunk = [UInt8](repeating: 0, count: 4096)
            while let n = try? chunk.withMutableSystemBytes({ (buffer) throws(SystemError) in try FileIO.read(STDIN_FILENO, into: buffer, "stdin") }), n > 0 {
                do { try FileIO.writeFully(fd, Array(chunk[0..<n]), "console input") } catch { break }
            }
        }
    }
}

/// Shared between the console reader, signal handlers and the timer.
private final class RunState: @unchecked Sendable {
    private let lock = NSLock()
    private var filter: ConsoleFilter
    private(set) var timedOut = false
    private(set) var signal: Int32?

    init(verbose: Bool) { filter = ConsoleFilter(verbose: verbose) }

    func feed(_ bytes: [UInt8]) -> [UInt8] { lock.withLock { filter.feed(bytes) } }
    func finish() -> [UInt8] { lock.withLock { filter.finish() } }
    var status: Int32? { lock.withLock { filter.exitStatus } }
    var recent: [String] { lock.withLock { filter.recent } }

    func timeOut(_ process: ChildProcess) {
        lock.withLock { timedOut = true }
        terminate(process)
    }

    func stop(_ process: ChildProcess, signal number: Int32) {
        lock.withLock { signal = number }
        terminate(process)
    }

    /// SIGTERM first (QEMU exits at once on it), SIGKILL if it is still there a moment later.
    private func terminate(_ process: ChildProcess) {
        process.signal(SIGTERM)
        DispatchQueue.global().asyncAfter(deadline: .now() + 3) { process.signal(SIGKILL) }
    }
}

private final class ErrorCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data: [UInt8] = []
    func set(_ data: [UInt8]) { lock.withLock { self.data = data } }
    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}
