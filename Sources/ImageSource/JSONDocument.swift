import Archive
import Foundation
import OCIModels

/// Small JSON documents (indexes, manifests, configs) are read whole, verified, then decoded.
enum JSONDocument {
    /// Real documents are a few KiB; a bound keeps a hostile one from exhausting memory.
    static let limit = 8 << 20

    static func read<T: Decodable>(
        _ type: T.Type, from store: any BlobStore, path: String, what: String,
        digest: Digest? = nil, size: Int64? = nil
    ) throws -> T {
        let source = VerifyingSource(try store.open(path), what: what, digest: digest, size: size)
        let bytes = try source.readAll(limit: limit)
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw SourceError.invalidJSON(what: what, reason: describe(error))
        } catch let error as OCIError {
            throw SourceError.invalidJSON(what: what, reason: error.description)
        }
    }

    /// One short line instead of DecodingError's nested debug text.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.isEmpty ? "top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing \"\(key.stringValue)\" at \(path(context.codingPath))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "wrong type at \(path(context.codingPath))"
        case .dataCorrupted(let context):
            if let underlying = context.underlyingError as? OCIError { return "\(underlying) at \(path(context.codingPath))" }
            return context.codingPath.isEmpty ? "not valid JSON" : "bad value at \(path(context.codingPath))"
        @unknown default: return "\(error)"
        }
    }
}
