import Foundation

/// A Docker credential helper (`docker-credential-NAME`, e.g. `pass`, `secretservice`, `ecr-login`,
/// `gcloud`), named by `credHelpers` or `credsStore` in an auth file. The protocol
/// (docker/docker-credential-helpers): run `docker-credential-NAME get`, write the server's
/// address on stdin, read `{"ServerURL": …, "Username": …, "Secret": …}` from stdout. A user
/// name of `<token>` means the secret is an identity (OAuth2 refresh) token.
public struct CredentialHelper: Sendable, Equatable {
    public let name: String
    /// The auth file that named the helper, for messages.
    public let configuredIn: String

    public init(name: String, configuredIn: String) {
        self.name = name
        self.configuredIn = configuredIn
    }

    public var executableName: String { "docker-credential-" + name }

    /// The credentials the helper holds for `host`, or nil when it has none. A helper that is
    /// missing or fails is an error naming it, not a silent anonymous pull.
    public func credentials(for host: String, environment: [String: String]) throws(SourceError) -> RegistryCredentials? {
        guard !name.isEmpty, !name.contains("/") else { throw .invalid("auth file \(configuredIn): invalid credential helper name \"\(name)\"") }
        guard let executable = Self.find(executableName, path: environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin") else {
            throw .invalid("\(host): credential helper \(executableName) (named in \(configuredIn)) is not installed or not on PATH")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["get"]
        process.environment = environment
        let input = Pipe(), output = Pipe(), errors = Pipe()
        // The server goes into the pipe before the helper starts (a few bytes: the pipe holds
        // them), so a helper that exits without reading can never make this write raise SIGPIPE.
        // Docker Hub's logins are stored under its v1 address, as `docker login` saves them.
        let server = host == RegistryReference.dockerHub ? "https://index.docker.io/v1/" : host
        do {
            try input.fileHandleForWriting.write(contentsOf: Data((server + "\n").utf8))
            try input.fileHandleForWriting.close()
        } catch {
            throw .invalid("\(host): cannot pass the server to credential helper \(executable): \(error.localizedDescription)")
        }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw .invalid("\(host): cannot run credential helper \(executable): \(error.localizedDescription)")
        }
        // Read both pipes before waiting, so a chatty helper cannot block on a full pipe.
        nonisolated(unsafe) var stderrData = Data()  // read only after reading.wait()
        let reading = DispatchGroup()
        DispatchQueue.global().async(group: reading) { stderrData = errors.fileHandleForReading.readDataToEndOfFile() }
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        reading.wait()
        let text = String(decoding: stdout, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            // The helpers' own wording for "no entry" (credentials.errCredentialsNotFound).
            if text.contains("credentials not found") { return nil }
            let detail = [text, String(decoding: stderrData, as: UTF8.self)]
                .flatMap { $0.split(whereSeparator: \.isNewline) }.first.map(String.init) ?? "exit status \(process.terminationStatus)"
            throw .invalid("\(host): credential helper \(executableName) failed: \(detail)")
        }
        struct Answer: Decodable {
            let Username: String?
            let Secret: String?
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: stdout), let secret = answer.Secret, !secret.isEmpty else {
            throw .invalid("\(host): credential helper \(executableName) gave no usable answer")
        }
        return RegistryCredentials(username: answer.Username ?? "", password: secret)
    }

    static func find(_ name: String, path: String) -> String? {
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

