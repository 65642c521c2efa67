import GuestContract
import Testing

/// The config Boot writes and the init reads: one format, one parser, round trips.
@Suite struct InitConfigFormatTests {
    static let uuid = UUID16(parsing: "01234567-89ab-cdef-0123-456789abcdef")

    @Test func encodesEveryByteThatCouldBreakALine() {
        #expect(PercentEncoding.encode("echo hi; exit 7") == "echo%20hi;%20exit%207")
        #expect(PercentEncoding.encode("a\nb%c,d") == "a%0Ab%25c%2Cd")
        #expect(PercentEncoding.encode("héllo") == "h%C3%A9llo")
    }

    @Test(arguments: ["", "plain", "two words", "%", "100%25", "a,b", "tab\there", "line\nbreak", "ünïcödé", "=", "\u{7F}"])
    func decodingUndoesEncoding(_ text: String) throws {
        #expect(try PercentEncoding.decode(PercentEncoding.encode(text)) == text)
    }

    @Test func decodingRefusesWhatCannotBeACString() {
        #expect(throws: PercentEncoding.Failure.truncatedEscape) { try PercentEncoding.decode("a%4") }
        #expect(throws: PercentEncoding.Failure.badHexDigit) { try PercentEncoding.decode("%zz") }
        #expect(throws: PercentEncoding.Failure.nulByte) { try PercentEncoding.decode("a%00b") }
        #expect(throws: PercentEncoding.Failure.invalidUTF8) { try PercentEncoding.decode("%FF") }
        #expect((try? PercentEncoding.decode("%4a%4A")) == "JJ")
    }

    /// Everything Boot can say survives the trip to the init.
    @Test func whatIsRenderedParsesBackTheSame() throws {
        var config = InitConfig(mode: .system, rootUUID: Self.uuid)
        config.modules = ["/lib/modules/v/virtio_blk.ko", "/lib/modules/v/a b.ko"]
        config.entrypoint = ["/bin/sh", "-c"]
        config.cmd = ["echo 'x'; exit 7", "", "a,b%c\nd"]
        config.environment = ["PATH=/opt/bin", "EMPTY=", "SPACE=a b"]
        config.workingDirectory = "/srv/my work"
        config.user = "app:staff"
        config.hostname = "box"
        config.systemInit = "/lib/systemd/systemd"
        config.rootOptions = "noatime,commit=30"
        config.consoleQuiet = true
        config.growRoot = true
        #expect(try InitConfig(parsing: config.render()) == config)
        let appMode = InitConfig(mode: .app, rootUUID: Self.uuid)
        #expect(try InitConfig(parsing: appMode.render()) == appMode)
        #expect(!appMode.render().contains("\ninit "))
    }

    @Test func readsTheFormatAsDocumented() throws {
        let text = """
            # a comment

            mode app\r
            root-uuid 0123456789ABCDEF0123456789abcdef
            arg first
            arg second%20one
            unknown-key anything
            hostname
            workdir
            """
        let config = try InitConfig(parsing: text)
        #expect(config.rootUUID == Self.uuid)
        #expect(config.cmd == ["first", "second one"])
        #expect(config.hostname == "oci2disk" && config.workingDirectory == nil && config.user == nil)
    }

    @Test(arguments: [
        ("mode app\n", InitConfigError.missing("root-uuid")),
        ("root-uuid nope\n", .badLine(1, "root-uuid \"nope\" is not a UUID")),
        ("root-uuid 0123456789abcdef0123456789abcdef\nmode kiosk\n", .badLine(2, "mode must be app or system, not \"kiosk\"")),
        ("root-uuid 0123456789abcdef0123456789abcdef\nenv =x\n", .badLine(2, "env \"=x\" is not KEY=VALUE")),
        ("root-uuid 0123456789abcdef0123456789abcdef\nmodule rel.ko\n", .badLine(2, "module path \"rel.ko\" is not absolute")),
        ("root-uuid 0123456789abcdef0123456789abcdef\ninit sbin/init\n", .badLine(2, "init \"sbin/init\" is not an absolute path")),
        ("root-uuid 0123456789abcdef0123456789abcdef\narg %00\n", .badLine(2, "arg: %00 is not allowed"))
    ])
    func refusesWhatTheInitCannotUse(_ text: String, _ error: InitConfigError) {
        #expect(throws: error) { try InitConfig(parsing: text) }
    }

    @Test func errorsNameTheFileAndLine() {
        #expect(InitConfigError.badLine(3, "why").description == "/oci2disk/config:3: why")
        #expect(InitConfigError.missing("root-uuid").description == "/oci2disk/config: missing root-uuid")
    }
}
