import ImageSource
import Testing

@Suite struct SourceReferenceTests {
    @Test func parsesTransportsLikeSkopeo() throws {
        #expect(try SourceReference(parsing: "oci:/tmp/x:latest") == .ociLayout(path: "/tmp/x", ref: "latest"))
        #expect(try SourceReference(parsing: "oci:/tmp/x") == .ociLayout(path: "/tmp/x", ref: nil))
        #expect(try SourceReference(parsing: "oci-archive:img.tar:v1") == .ociArchive(path: "img.tar", ref: "v1"))
        #expect(try SourceReference(parsing: "docker-archive:img.tar:busybox:latest") == .dockerArchive(path: "img.tar", ref: "busybox:latest"))
        #expect(try SourceReference(parsing: "./some/path") == .path("./some/path"))
        #expect(try SourceReference(parsing: "/abs/with:colon") == .path("/abs/with:colon"))
        #expect(
            try SourceReference(parsing: "docker://127.0.0.1:5000/team/app:v1")
                == .registry(host: "127.0.0.1:5000", repository: "team/app", reference: .tag("v1")))
    }

    @Test func rejectsUnknownTransportsByName() {
        #expect(throws: SourceError.unknownTransport("ftp:x")) { try SourceReference(parsing: "ftp:x") }
        #expect(throws: SourceError.self) { try SourceReference(parsing: "docker:localhost/x") }
        #expect(throws: SourceError.self) { try SourceReference(parsing: "docker-daemon:x") }
        #expect(throws: SourceError.self) { try SourceReference(parsing: "oci:") }
    }
}
