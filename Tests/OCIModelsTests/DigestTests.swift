import Foundation
import OCIModels
import Testing

@Suite struct DigestTests {
    @Test func parsesSHA256AndSHA512() throws {
        let d = try Digest(parsing: "sha256:" + String(repeating: "a", count: 64))
        #expect(d.algorithm == .sha256)
        #expect(d.layoutPath == "blobs/sha256/" + String(repeating: "a", count: 64))
        let e = try Digest(parsing: "sha512:" + String(repeating: "0", count: 128))
        #expect(e.algorithm == .sha512)
    }

    @Test(arguments: [
        "sha256:../../etc/passwd", "sha256:" + String(repeating: "A", count: 64), "sha256:" + String(repeating: "a", count: 63),
        "md5:" + String(repeating: "a", count: 32), "sha256", "", "sha256:" + String(repeating: "a", count: 63) + "/",
        "sha512:" + String(repeating: "a", count: 64)
    ])
    func rejectsAnythingThatCouldEscapeBlobs(_ text: String) {
        #expect(throws: OCIError.invalidDigest(text)) { try Digest(parsing: text) }
    }

    @Test func decodingAManifestWithABadDigestFails() {
        let json = #"{"mediaType":"x","digest":"sha256:../x","size":1}"#
        #expect(throws: (any Error).self) { try JSONDecoder().decode(Descriptor.self, from: Data(json.utf8)) }
    }
}

@Suite struct PlatformTests {
    @Test func parsesAndMatches() throws {
        let wanted = try Platform(parsing: "linux/arm64")
        #expect(Platform(os: "linux", architecture: "arm64", variant: "v8").satisfies(wanted))
        #expect(!Platform(os: "linux", architecture: "amd64").satisfies(wanted))
        let v7 = try Platform(parsing: "linux/arm/v7")
        #expect(!Platform(os: "linux", architecture: "arm", variant: "v6").satisfies(v7))
        #expect(Platform(os: "linux", architecture: "arm64").satisfies(try Platform(parsing: "linux/arm64/v8")))
    }

    @Test(arguments: ["linux", "linux/", "/amd64", "a/b/c/d", ""])
    func rejectsMalformed(_ text: String) {
        #expect(throws: OCIError.invalidPlatform(text)) { try Platform(parsing: text) }
    }

    @Test func roundTripsThroughJSONWithDottedKeys() throws {
        var p = Platform(os: "windows", architecture: "amd64")
        p.osVersion = "10.0.17763"
        let data = try JSONEncoder().encode(p)
        #expect(String(decoding: data, as: UTF8.self).contains("\"os.version\""))
        #expect(try JSONDecoder().decode(Platform.self, from: data) == p)
    }
}

@Suite struct MediaTypeTests {
    @Test func layerCompressionComesFromTheMediaType() throws {
        #expect(try LayerCompression(mediaType: MediaTypes.ociLayerGzip) == .gzip)
        #expect(try LayerCompression(mediaType: MediaTypes.dockerLayerGzip) == .gzip)
        #expect(try LayerCompression(mediaType: MediaTypes.ociLayerZstd) == .zstd)
        #expect(try LayerCompression(mediaType: MediaTypes.ociLayer) == .none)
        #expect(throws: LayerMediaTypeError(mediaType: "application/vnd.oci.image.layer.v1.tar+bzip2")) {
            try LayerCompression(mediaType: "application/vnd.oci.image.layer.v1.tar+bzip2")
        }
    }

    @Test func configDecodesDiffIDs() throws {
        let json =
            #"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:\#(String(repeating: "b", count: 64))"]},"config":{"Env":["A=1"],"Cmd":["sh"]}}"#
        let config = try JSONDecoder().decode(ImageConfig.self, from: Data(json.utf8))
        #expect(config.rootfs.diffIDs.count == 1)
        #expect(config.config?.cmd == ["sh"])
        #expect(config.platform == .linuxAMD64)
    }
}
