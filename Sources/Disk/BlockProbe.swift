import CBlkid
#if canImport(Glibc)
import Glibc
#endif

/// What libblkid recognises in a stretch of a disk image.
public struct ProbedFilesystem: Equatable, Sendable, Codable {
    public var type: String?
    public var uuid: String?
    public var label: String?
}

/// Owns one libblkid probe over a byte range of a file.
public final class BlockProbe {
    private let probe: blkid_probe
    private let descriptor: Int32

    public init(path: String, offset: Int64, size: Int64) throws {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw DiskError.probe("\(path): \(String(cString: strerror(errno)))") }
        guard let probe = blkid_new_probe() else {
            close(descriptor)
            throw DiskError.probe("\(path): libblkid could not start a probe")
        }
        self.probe = probe
        guard blkid_probe_set_device(probe, descriptor, blkid_loff_t(offset), blkid_loff_t(size)) == 0 else {
            throw DiskError.probe("\(path): libblkid cannot read \(size) bytes at \(offset)")
        }
        blkid_probe_enable_superblocks(probe, 1)
        blkid_probe_set_superblocks_flags(probe, Int32(BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL))
    }

    deinit {
        blkid_free_probe(probe)
        close(descriptor)
    }

    /// The filesystem found, or nil when libblkid recognises none.
    public func filesystem() -> ProbedFilesystem? {
        guard blkid_do_safeprobe(probe) == 0 else { return nil }
        return ProbedFilesystem(type: value("TYPE"), uuid: value("UUID"), label: value("LABEL"))
    }

    private func value(_ name: String) -> String? {
        var data: UnsafePointer<CChar>?
        var length = 0
        guard blkid_probe_lookup_value(probe, name, &data, &length) == 0, let data else { return nil }
        return String(cString: data)
    }
}
