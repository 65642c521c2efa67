import Foundation
import ArgumentParser
import ImageSource

/// How to reach a registry for `docker://` sources; the names skopeo uses, with its `--src-`
/// spellings accepted too.
struct RegistryArguments: ParsableArguments {
    @Option(
        name: [.customLong("creds"), .customLong("src-creds")],
        help: ArgumentHelp("Registry credentials (default: from $REGISTRY_AUTH_FILE or ~/.docker/config.json).", valueName: "user:pass"))
    var creds: String?

    @Option(
        name: [.customLong("tls-verify"), .customLong("src-tls-verify")],
        help: ArgumentHelp("false: talk plain HTTP to the registry (a local registry without TLS).", valueName: "bool"))
    var tlsVerify: Bool?

    @Option(help: ArgumentHelp("Where downloaded blobs are kept (default: ~/.cache/oci2disk).", valueName: "dir"))
    var cacheDir: String?

    func validate() throws {
        if let creds, RegistryCredentials(parsing: creds) == nil { throw ValidationError("--creds takes USER:PASS.") }
    }

    func options() -> RegistryOptions {
        var options = RegistryOptions()
        options.credentials = creds.flatMap(RegistryCredentials.init(parsing:))
        options.tlsVerify = tlsVerify ?? true
        options.cacheDirectory = cacheDir
        options.environment = ProcessInfo.processInfo.environment
        return options
    }
}
