import Testing
@testable import Provision

struct AccountTableTests {
    @Test func changesOnlyTheLinesItTouches() {
        var table = AccountTable(text: "# local\nroot:x:0:0:root:/root:/bin/bash\nbin:x:1:1::/bin:/usr/sbin/nologin\n")
        let updated = table.update("root", field: 1, to: "HASH"), missing = table.update("nobody", field: 1, to: "HASH")
        #expect(updated && !missing)
        table.set(["app", "x", "1000", "1000", "", "/home/app", "/bin/sh"])
        #expect(table.text == "# local\nroot:HASH:0:0:root:/root:/bin/bash\nbin:x:1:1::/bin:/usr/sbin/nologin\napp:x:1000:1000::/home/app:/bin/sh\n")
        #expect(table.entry("bin")?[5] == "/bin")
    }

    @Test func shortEntriesArePadded() {
        var table = AccountTable(text: "root::0:0")
        let updated = table.update("root", field: 6, to: "/bin/sh")
        #expect(updated)
        #expect(table.text == "root::0:0:::/bin/sh\n")
    }

    @Test func theFirstFreeIDIsFreeEverywhere() {
        #expect(AccountTable.firstFreeID([0, 1000, 1001], [1002]) == 1003)
        #expect(AccountTable.firstFreeID([]) == 1000)
    }
}
