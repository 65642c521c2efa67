import Archive

/// A layer entry's name split into components, checked against what a layer may contain.
struct EntryPath {
    let components: [[UInt8]]

    static let maxNameLength = 255
    /// Linux's PATH_MAX: longer paths cannot be opened in the guest, and unbounded depth would
    /// cost unbounded memory and recursion here.
    static let maxPathLength = 4096

    /// `./a//b/` → [a, b]. Absolute names, `..` and over-long names are refused: a layer is
    /// relative to the root, and such names are how hostile layers try to escape it.
    init(_ bytes: [UInt8], display: String) throws(FlattenError) {
        if bytes.first == UInt8(ascii: "/") { throw .absolutePath(display) }
        if bytes.count > Self.maxPathLength { throw .pathTooLong(display) }
        var parts: [[UInt8]] = []
        for part in bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if part.elementsEqual([UInt8(ascii: ".")]) { continue }
            if part.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) { throw .parentReference(display) }
            if part.count > Self.maxNameLength { throw .nameTooLong(display) }
            parts.append(Array(part))
        }
        components = parts
    }

    var isRoot: Bool { components.isEmpty }
    var name: [UInt8] { components.last ?? [] }
    var parent: ArraySlice<[UInt8]> { components.dropLast() }
}

enum Whiteout {
    static let prefix = Array(".wh.".utf8)
    static let opaque = Array(".wh..wh..opq".utf8)
    /// aufs metadata (`.wh..wh.plnk`, `.wh..wh.aufs`) is neither a file nor a whiteout.
    static let metaPrefix = Array(".wh..wh.".utf8)
}
