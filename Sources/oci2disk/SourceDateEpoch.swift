import ArgumentParser
import Foundation

/// `SOURCE_DATE_EPOCH` (reproducible-builds.org): the time for what an image leaves undated.
/// Read here, where the environment belongs to the command line, and handed to the library.
enum SourceDateEpoch {
    /// nil when unset or empty; a value that is not whole seconds is a usage error naming it.
    static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Int64? {
        guard let text = environment["SOURCE_DATE_EPOCH"], !text.isEmpty else { return nil }
        guard let seconds = Int64(text) else { throw ValidationError("SOURCE_DATE_EPOCH must be whole seconds, got \"\(text)\".") }
        return seconds
    }
}
