import Foundation
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
    public static func run(_ configuration: MachineConfiguration, timeout: Double?, verbose: Bool,
                           output: @escaping @Sendable ([UInt8]) -> Void) throws -> RunOutcome {
        guard let qemu = findExecutable(MachineConfiguration.qemuBinary) else {
            throw RunError.qemu("\(MachineConfiguration.qemuBinary) not found: install Debian's qemu-system-x86 (scripts/setup does)")
        }
        var passt: Passt?
        if case .isolated(let socket) = configuration.network { passt = try Passt(configuration, socket: socket) }
        defer { passt?.stop() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: qemu)
        process.arguments = configuration.arguments()
        let console = Pipe(), errors = Pipe(), input = Pipe()
        process.standardOutput = console
        process.standardError = errors
        process.standardInput = input
        let state = RunState(verbose: verbose)

        // Ctrl-C and SIGTERM stop the VM; we report and exit after QEMU is gone.
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { state.stop(process, signal: signalNumber) }
            source.resume()
            sources.append(source)
        }
        defer {
            for source in sources { source.cancel() }
            for signalNumber in [SIGINT, SIGTERM, SIGHUP] { signal(signalNumber, SIG_DFL) }
        }

        do {
            try process.run()
        } catch {
            throw RunError.qemu("cannot start \(qemu): \(error)")
        }
        let group = DispatchGroup()
        group.enter()
        Thread.detachNewThread {
            let handle = console.fileHandleForReading
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                let shown = state.feed([UInt8](data))
                if !shown.isEmpty { output(shown) }
            }
            let rest = state.finish()
            if !rest.isEmpty { output(rest) }
            group.leave()
        }
        let errorText = ErrorCollector()
        group.enter()
        Thread.detachNewThread {
            errorText.set(errors.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        let terminal = TerminalMode.passKeysThrough(STDIN_FILENO)
        defer { terminal?.restore() }
        forwardStandardInput(to: input.fileHandleForWriting)

        var timer: (any DispatchSourceTimer)?
        if let timeout {
            let source = DispatchSource.makeTimerSource(queue: .global())
            source.schedule(deadline: .now() + timeout)
            source.setEventHandler { state.timeOut(process) }
            source.resume()
            timer = source
        }
        process.waitUntilExit()
        timer?.cancel()
        group.wait()

        // ttyS1 is written by the init alone; the console line is a fallback, since the
        // program itself could print a look-alike.
        var outcome = RunOutcome(status: statusFromFile(configuration.statusFile) ?? state.status, qemuExitCode: process.terminationStatus,
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
    private static func forwardStandardInput(to handle: FileHandle) {
        Thread.detachNewThread {
            // A write after QEMU has exited must fail with EPIPE, not kill oci2disk with SIGPIPE
            // before it reports the guest's status. Blocked in this thread only: the signal a
            // failed write raises goes to the writing thread, and is dropped when the thread ends.
            var pipeSignal = sigset_t()
            sigemptyset(&pipeSignal)
            sigaddset(&pipeSignal, SIGPIPE)
            pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
            let stdin = FileHandle.standardInput
            while true {
                let data = stdin.availableData
                if data.isEmpty { break }
                do { try handle.write(contentsOf: data) } catch { break }
            }
            try? handle.close()
        }
    }

    static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return (path.split(separator: ":").map { "\($0)/\(name)" } + ["/usr/bin/\(name)"]).first { FileManager.default.isExecutableFile(atPath: $0) }
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

    func timeOut(_ process: Process) {
        lock.withLock { timedOut = true }
        terminate(process)
    }

    func stop(_ process: Process, signal number: Int32) {
        lock.withLock { signal = number }
        terminate(process)
    }

    /// SIGTERM first (QEMU exits at once on it), SIGKILL if it is still there a moment later.
    private func terminate(_ process: Process) {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        kill(pid, SIGTERM)
        DispatchQueue.global().asyncAfter(deadline: .now() + 3) {
            if process.isRunning { kill(pid, SIGKILL) }
        }
    }
}

private final class ErrorCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ data: Data) { lock.withLock { self.data = data } }
    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}
