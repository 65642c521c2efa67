import Testing

@testable import ImageSource

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
        #expect(try SourceReference(parsing: "docker-daemon:app:latest") == .dockerDaemon("app:latest"))
        #expect(try SourceReference(parsing: "-") == .path("-"))
        #expect(try SourceReference(parsing: "docker-archive:-") == .dockerArchive(path: "-", ref: nil))
        #expect(
            try SourceReference(parsing: "containers-storage:[vfs@/s+/r]localhost/app:1") == .containersStorage("[vfs@/s+/r]localhost/app:1"))
    }

    @Test func readsContainersStorageSpecifiers() throws {
        let (spec, name) = try ContainersStorage.parse("[overlay@/var/lib/x+/run/x:overlay.mountopt=nodev,a=b]localhost/app:1")
        #expect(name == "localhost/app:1")
        #expect(
            spec?.podmanOptions == [
                "--storage-driver", "overlay", "--root", "/var/lib/x", "--runroot", "/run/x", "--storage-opt", "overlay.mountopt=nodev", "--storage-opt", "a=b"
            ])
        #expect(try ContainersStorage.parse("app").0 == nil)
        #expect(try ContainersStorage.parse("[/only/root]app").0?.podmanOptions == ["--root", "/only/root"])
        for bad in ["[vfs@relative]app", "[vfs@/a", "[/a]-opt", "[/a]../x", "app name"] {
            #expect(throws: SourceError.self) { try ContainersStorage.parse(bad) }
        }
    }

    @Test func rejectsUnknownTransportsByName() {
        #expect(throws: SourceError.unknownTransport("ftp:x")) { try SourceReference(parsing: "ftp:x") }
        #expect(throws: SourceError.self) { try SourceReference(parsing: "docker:localhost/x") }
        #expect(throws: SourceError.self) { try SourceReference(parsing: "docker-daemon:a b") }
        #expect(throws: SourceError.unsupportedTransport("dir")) { try SourceReference(parsing: "dir:/x") }
        #expect(throws: SourceError.self) { try SourceReference(parsing: "oci:") }
    }
}
