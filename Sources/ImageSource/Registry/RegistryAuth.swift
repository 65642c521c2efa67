import Foundation

/// One challenge from a `WWW-Authenticate` header (RFC 7235): `Bearer realm="…",service="…"`.
public struct AuthChallenge: Equatable, Sendable {
    /// Lower case: `bearer`, `basic`.
    public let scheme: String
    /// Parameter names lower case, values unquoted.
    public let parameters: [String: String]

    public init(scheme: String, parameters: [String: String]) {
        self.scheme = scheme
        self.parameters = parameters
    }

    /// All challenges in a header value. A header may hold several, separated by commas like
    /// the parameters: a name not followed by `=` starts the next challenge.
    public static func parse(_ header: String) -> [AuthChallenge] {
        var scanner = Scanner(Array(header.utf8))
        var result: [AuthChallenge] = []
        while true {
            scanner.skip { $0 == 0x20 || $0 == 0x09 || $0 == 0x2c }
            guard let scheme = scanner.token() else { break }  // the end, or text that is no challenge
            var parameters: [String: String] = [:]
            while true {
                let mark = scanner.position
                scanner.skip { $0 == 0x20 || $0 == 0x09 || $0 == 0x2c }
                guard let name = scanner.token() else { break }
                scanner.skip { $0 == 0x20 || $0 == 0x09 }
                guard scanner.take(0x3d) else {
                    scanner.position = mark  // the next challenge's scheme (or a token68 we ignore)
                    break
                }
                scanner.skip { $0 == 0x20 || $0 == 0x09 }
                parameters[name.lowercased()] = scanner.quoted() ?? scanner.token() ?? ""
            }
            result.append(AuthChallenge(scheme: scheme.lowercased(), parameters: parameters))
        }
        return result
    }

    private struct Scanner {
        let bytes: [UInt8]
        var position = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { position >= bytes.count }

        mutating func skip(while predicate: (UInt8) -> Bool) {
            while position < bytes.count, predicate(bytes[position]) { position += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        /// RFC 7230 tchar run (plus `/` and `=`-free token68 characters a realm never needs).
        mutating func token() -> String? {
            let start = position
            skip { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)
                    || Array("!#$%&'*+-.^_`|~/:".utf8).contains(b)
            }
            return position > start ? String(decoding: bytes[start..<position], as: UTF8.self) : nil
        }

        mutating func quoted() -> String? {
            guard take(0x22) else { return nil }
            var value: [UInt8] = []
            while position < bytes.count {
                let b = bytes[position]
                position += 1
                if b == 0x22 { break }
                if b == 0x5c, position < bytes.count {
                    value.append(bytes[position])
                    position += 1
                } else {
                    value.append(b)
                }
            }
            return String(decoding: value, as: UTF8.self)
        }
    }
}

/// A token service's answer: `{"token": …}` or the OAuth2 name, `{"access_token": …}`.
public enum TokenAnswer {
    private struct Body: Decodable {
        let token: String?
        let accessToken: String?
        enum CodingKeys: String, CodingKey { case token, accessToken = "access_token" }
    }

    /// The first non-empty token in the answer, or nil.
    public static func token(in body: [UInt8]) -> String? {
        guard let answer = try? JSONDecoder().decode(Body.self, from: Data(body)) else { return nil }
        return [answer.token, answer.accessToken].compactMap { $0 }.first { !$0.isEmpty }
    }
}
