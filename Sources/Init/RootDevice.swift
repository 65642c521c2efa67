import GuestContract
import Glibc

/// Finds the root filesystem's block device by its ext4 UUID.
enum RootDevice {
    /// ext2/3/4 superblock: at byte 1024; magic 0xEF53 (little-endian) at +0x38, UUID at +0x68.
    static let superblockOffset = 1024
    static let magicOffset = 0x38
    static let uuidOffset = 0x68
    static let magic: UInt16 = 0xEF53

    /// Scans /sys/class/block/* (as /dev/NAME) until one carries `uuid` or `timeout` passes;
    /// devices appear while the disk driver probes, so the scan repeats every 20 ms.
    static func find(uuid: UUID16, timeout seconds: Int, console: Console) throws(InitError) -> String {
        let deadline = monotonicSeconds() + Double(seconds)
        var scans = 0
        while true {
            scans += 1
            for name in FileSystem.list("/sys/class/block") {
                let device = "/dev/" + name
                if filesystemUUID(of: device) == uuid {
                    console.step("root \(device) found after \(scans) scan(s)")
                    return device
                }
            }
            if monotonicSeconds() >= deadline {
                throw .rootNotFound(uuid: uuid.description, seconds: seconds)
            }
            var pause = timespec(tv_sec: 0, tv_nsec: 20_000_000)
            nanosleep(&pause, nil)
        }
    }

    /// The UUID of the ext2/3/4 filesystem on `device`, or nil if it has none (or cannot be read).
    static func filesystemUUID(of device: String) -> UUID16? {
        guard let block = try? FileSystem.readBytes(device, offset: superblockOffset, count: 0x78) else {
            return nil
        }
        return filesystemUUID(superblock: block)
    }

    /// The UUID in a superblock's first bytes, if the magic matches.
    static func filesystemUUID(superblock block: [UInt8]) -> UUID16? {
        guard block.count >= uuidOffset + 16,
            UInt16(block[magicOffset]) | UInt16(block[magicOffset + 1]) << 8 == magic
        else {
            return nil
        }
        return UUID16(bytes: Array(block[uuidOffset..<uuidOffset + 16]))
    }

    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
