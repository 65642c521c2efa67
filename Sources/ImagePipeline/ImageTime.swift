import Foundation
import OCIModels

extension ImageConfig {
    /// The image's `created` time in whole seconds: the fixed time for what the image leaves
    /// undated (the root folder, folders made for a deep path), in disks and bundles alike.
    public var createdSeconds: Int64? {
        guard let created else { return nil }
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]] {
            formatter.formatOptions = options
            if let date = formatter.date(from: created) { return Int64(date.timeIntervalSince1970.rounded(.down)) }
        }
        return nil
    }
}
