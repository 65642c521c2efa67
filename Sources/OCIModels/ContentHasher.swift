import Crypto

/// An incremental hash for one digest algorithm.
public struct ContentHasher {
    private enum State {
        case sha256(SHA256)
        case sha512(SHA512)
    }
    private var state: State
    public let algorithm: OCIModels.Digest.Algorithm

    public init(_ algorithm: OCIModels.Digest.Algorithm) {
        self.algorithm = algorithm
        state = algorithm == .sha256 ? .sha256(SHA256()) : .sha512(SHA512())
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        switch state {
        case .sha256(var h):
            h.update(bufferPointer: bytes)
            state = .sha256(h)
        case .sha512(var h):
            h.update(bufferPointer: bytes)
            state = .sha512(h)
        }
    }

    public func finalize() -> OCIModels.Digest {
        let hex: String
        switch state {
        case .sha256(let h): hex = h.finalize().map { hexByte($0) }.joined()
        case .sha512(let h): hex = h.finalize().map { hexByte($0) }.joined()
        }
        // The hex comes from a hash of the right length, so parsing cannot fail.
        return try! OCIModels.Digest(algorithm: algorithm, hex: hex)
    }
}

private func hexByte(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
}
