@testable import Disk
import Testing

/// Tools run through posix_spawn: output, status, stderr, and no hang on large outputs.
@Suite struct ToolProcessTests {
    static func sh(_ script: String, environment: [String: String] = [:]) throws -> ToolProcess.Result {
        try ToolProcess.run("/bin/sh", ["-c", script], environment: environment)
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
        #expect(throws: DiskError.self) { try ToolProcess.run("/nonexistent/tool", [], environment: [:]) }
    }
}
