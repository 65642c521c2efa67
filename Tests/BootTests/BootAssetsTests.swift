import Foundation
import Testing

@testable import Boot

@Suite struct TemplatesTests {
    let templates = Templates(texts: ["a.txt": "root={{root}} {{extra}}\n"], origin: "test")

    @Test func placeholdersAreFilled() throws {
        #expect(try templates.render("a.txt", ["root": "UUID=1", "extra": "quiet"]) == "root=UUID=1 quiet\n")
    }

    @Test func aMissingValueOrTemplateIsAnError() {
        #expect(throws: BootError.template("a.txt: no value for {{extra}}\n")) { try templates.render("a.txt", ["root": "x"]) }
        #expect(throws: BootError.template("b.txt not found in the templates (test)")) { try templates.render("b.txt", [:]) }
    }

    @Test func aFolderMustHoldEveryTemplate() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("templates-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for name in Templates.names.dropLast() { try Data("x {{y}}".utf8).write(to: URL(fileURLWithPath: folder + "/" + name)) }
        #expect(throws: BootError.template("\(folder)/\(Templates.names.last ?? ""): missing or not UTF-8 text")) { try Templates.folder(folder) }
        try Data("z".utf8).write(to: URL(fileURLWithPath: folder + "/" + (Templates.names.last ?? "")))
        #expect(try Templates.folder(folder).texts.count == Templates.names.count)
    }
}

@Suite struct GuestInitTests {
    @Test func bytesAreGivenBackAndAMissingInitNamesWhereItLooked() throws {
        #expect(try GuestInit.bytes([1, 2, 3]).load() == [1, 2, 3])
        do {
            _ = try GuestInit.missing(lookedIn: ["/a", "/b"]).load()
            Issue.record("a missing init loaded")
        } catch {
            #expect("\(error)".contains("/a, /b") && "\(error)".contains("scripts/build-init"))
        }
        #expect(throws: BootError.guestInit("/no/such/init: cannot read the guest init")) { try GuestInit.file("/no/such/init").load() }
    }
}

@Suite struct KernelDownloadTests {
    @Test(arguments: ["linux-image-cloud-amd64", "linux-image-6.1.0-57-cloud-amd64", "a0", "g++"])
    func debianPackageNamesPass(name: String) {
        #expect(KernelDownload.isPackageName(name))
    }

    @Test(arguments: ["", "a", "-oDir::Cache=/tmp", "../x", "Linux-Image", "a b", "pkg/name", ".hidden"])
    func anythingElseIsRefusedBeforeAptSeesIt(name: String) {
        #expect(!KernelDownload.isPackageName(name))
    }

    @Test func versionedKernelsAreTold() {
        #expect(KernelDownload.isVersionedKernel("linux-image-6.1.0-57-cloud-amd64"))
        #expect(!KernelDownload.isVersionedKernel("linux-image-cloud-amd64"))
        #expect(!KernelDownload.isVersionedKernel("linux-headers-6.1.0-57-cloud-amd64"))
    }
}
