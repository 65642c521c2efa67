import Foundation
import SystemBase

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
        guard !name.isEmpty, !name.contains("/") else { throw .authFile(path: configuredIn, problem: "invalid credential helper name \"\(name)\"") }
        guard let executable = Self.find(executableName, path: environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin") else {
            throw .credentialHelper(host: host, helper: executableName, problem: "(named in \(configuredIn)) is not installed or not on PATH")
        }
        // Docker Hub's logins are stored under its v1 address, as `docker login` saves them.
        let server = host == RegistryReference.dockerHub ? "https://index.docker.io/v1/" : host
        let result: CollectedOutput
        do {
            result = try ChildProcess.collect(executable, ["get"], environment: environment, input: Array((server + "\n").utf8))
        } catch {
            throw .credentialHelper(host: host, helper: executable, problem: "cannot be run: \(error)")
        }
        let stdout = result.output
        let text = String(decoding: stdout, as: UTF8.self)
        guard result.status == 0 else {
            // The helpers' own wording for "no entry" (credentials.errCredentialsNotFound).
            if text.contains("credentials not found") { return nil }
            let detail =
                [text, String(decoding: result.errors, as: UTF8.self)]
                .flatMap { $0.split(whereSeparator: \.isNewline) }.first.map(String.init) ?? "exit status \(result.status)"
            throw .credentialHelper(host: host, helper: executableName, problem: "failed: \(detail)")
        }
        struct Answer: Decodable {
            let Username: String?
            let Secret: String?
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(stdout)), let secret = answer.Secret, !secret.isEmpty else {
            throw .credentialHelper(host: host, helper: executableName, problem: "gave no usable answer")
        }
        return RegistryCredentials(username: answer.Username ?? "", password: secret)
    }

    static func find(_ name: String, path: String) -> String? {
        Executable.find(name, in: path)
    }
}
