import Disk
import Testing

@Suite struct MBRTests {
    @Test func encodesTheLayoutByteForByte() {
        let mbr = MBR(
            diskIdentifier: 0x1234_5678,
            partitions: [
                MBR.Partition(bootable: true, type: 0x83, firstSector: 2048, sectorCount: 4096)
            ])
        let sector = mbr.encode()
        #expect(sector.count == 512)
        #expect(Array(sector[440..<444]) == [0x78, 0x56, 0x34, 0x12])
        #expect(sector[446] == 0x80)
        #expect(sector[450] == 0x83)
        #expect(Array(sector[454..<458]) == [0x00, 0x08, 0x00, 0x00])  // 2048 LE
        #expect(Array(sector[458..<462]) == [0x00, 0x10, 0x00, 0x00])  // 4096 LE
        #expect(Array(sector[447..<450]) == [32, 33, 0])  // CHS of LBA 2048 with 255/63 geometry
        #expect(sector[510] == 0x55 && sector[511] == 0xAA)
        #expect(Array(sector[462..<510]).allSatisfy { $0 == 0 })
    }

    @Test func decodesWhatItEncodes() {
        let mbr = MBR(diskIdentifier: 7, partitions: [MBR.Partition(bootable: false, type: 0x0c, firstSector: 63, sectorCount: 100)])
        var decoded = MBR.decode(mbr.encode())
        decoded?.bootCode = []
        #expect(decoded == mbr)
    }

    @Test func aBareFilesystemHasNoTable() {
        #expect(MBR.decode([UInt8](repeating: 0, count: 512)) == nil)
    }
}

@Suite struct ByteSizeTests {
    @Test(arguments: [("4G", Int64(4) << 30), ("512M", Int64(512) << 20), ("100MiB", Int64(100) << 20), ("1048576", Int64(1 << 20)), ("2k", Int64(2048))])
    func parses(_ text: String, _ bytes: Int64) {
        #expect(ByteSize.parse(text) == bytes)
    }

    @Test(arguments: ["", "G", "1.5G", "-1G", "4X", "99999999999999999999T"])
    func rejects(_ text: String) {
        #expect(ByteSize.parse(text) == nil)
    }
}
