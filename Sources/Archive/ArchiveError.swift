/// A failure reported by libarchive, carrying libarchive's own message.
public struct ArchiveError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
