/// `withUnsafeBytes` that keeps a body's `SystemError` typed (the standard library's versions
/// are `rethrows`, which widens what they throw to `any Error`).
extension Array where Element == UInt8 {
    public func withSystemBytes<R>(_ body: (UnsafeRawBufferPointer) throws(SystemError) -> R) throws(SystemError) -> R {
        let result: Result<R, SystemError> = withUnsafeBytes { buffer in Result { () throws(SystemError) in try body(buffer) } }
        return try result.get()
    }

    public mutating func withMutableSystemBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws(SystemError) -> R) throws(SystemError) -> R {
        let result: Result<R, SystemError> = withUnsafeMutableBytes { buffer in Result { () throws(SystemError) in try body(buffer) } }
        return try result.get()
    }
}
