import Archive
import Flatten

/// A file or folder put into the flattened tree after the image's layers.
enum TreeEdit {
    case directory(String, permissions: UInt16, uid: UInt32, gid: UInt32)
    case file(String, [UInt8], permissions: UInt16, uid: UInt32, gid: UInt32)

    /// A file with another one's owner and mode (an account file keeps the image's).
    static func file(_ path: String, _ bytes: [UInt8], like metadata: Metadata) -> TreeEdit {
        .file(path, bytes, permissions: metadata.permissions, uid: metadata.uid, gid: metadata.gid)
    }

    var path: String {
        switch self {
        case .directory(let path, _, _, _), .file(let path, _, _, _, _): path
        }
    }

    /// Applies the edits as layer `layer`: entries as a tar would hold them.
    static func apply(_ edits: [TreeEdit], to tree: FileTree, spill: SpillFile, layer: Int, time: Int64) throws {
        guard !edits.isEmpty else { return }
        let applier = LayerApplier(tree: tree, spill: spill)
        applier.beginLayer(layer)
        for edit in edits {
            // Layer entries are relative to the root, as in a tar.
            let name = Array(edit.path.drop { $0 == "/" }.utf8)
            switch edit {
            case .directory(_, let permissions, let uid, let gid):
                let entry = ArchiveEntry(
                    path: name, kind: .directory, permissions: permissions, uid: Int64(uid), gid: Int64(gid),
                    mtimeSeconds: time)
                try applier.apply(entry, data: MemoryEntryData([]))
            case .file(_, let bytes, let permissions, let uid, let gid):
                let entry = ArchiveEntry(
                    path: name, kind: .regular, permissions: permissions, uid: Int64(uid), gid: Int64(gid),
                    size: Int64(bytes.count), mtimeSeconds: time)
                try applier.apply(entry, data: MemoryEntryData(bytes))
            }
        }
    }
}
