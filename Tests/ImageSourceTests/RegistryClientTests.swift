import Foundation
import Testing

@testable import ImageSource

/// The registry client's answers to what a registry or the network says, without a network:
/// error bodies, connection failures, and what counts as the same origin for redirects.
@Suite struct RegistryClientTests {
    @Test func errorBodiesGiveTheirMessagesShortened() {
        let body = #"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"},{"code":"DENIED"}]}"#
        #expect(RegistryClient.detail(Array(body.utf8)) == "manifest unknown; DENIED")
        let long = #"{"errors":[{"message":""# + String(repeating: "x", count: 500) + #""}]}"#
        #expect(RegistryClient.detail(Array(long.utf8))?.count == 200)
    }

    @Test(arguments: ["", "not json", #"{"errors":[]}"#, #"{"errors":[{}]}"#, #"{"other":1}"#])
    func bodiesWithoutMessagesGiveNone(body: String) {
        #expect(RegistryClient.detail(Array(body.utf8)) == nil)
    }

    @Test func connectionFailuresAreNamedPlainly() {
        #expect(RegistryClient.reason(.cannotConnectToHost, "x", tls: true) == "connection refused")
        #expect(RegistryClient.reason(.cannotFindHost, "x", tls: false) == "unknown host")
        #expect(RegistryClient.reason(.timedOut, "x", tls: false) == "timed out")
        #expect(RegistryClient.reason(nil, "something else", tls: false) == "something else")
    }

    @Test func tlsFailuresPointAtTheOption() {
        let reason = RegistryClient.reason(.serverCertificateUntrusted, "certificate verify failed", tls: true)
        #expect(reason.contains("TLS failed") && reason.contains("--tls-verify=false"))
        // libcurl's TLS errors often come without a code: the message tells.
        #expect(RegistryClient.reason(nil, "SSL connect error", tls: true).contains("TLS failed"))
        // Over plain HTTP there is no TLS to blame.
        #expect(RegistryClient.reason(nil, "SSL connect error", tls: false) == "SSL connect error")
    }

    @Test func hostsAndOriginsKeepThePort() throws {
        let url = try #require(URL(string: "https://registry.example:5000/v2/"))
        #expect(RegistryClient.hostName(url) == "registry.example:5000")
        #expect(HTTPTransport.origin(url) == "https://registry.example:5000")
        let other = try #require(URL(string: "http://registry.example:5000/v2/"))
        #expect(HTTPTransport.origin(other) != HTTPTransport.origin(url), "a scheme change is another origin")
        let noPort = try #require(URL(string: "https://registry.example/v2/"))
        #expect(RegistryClient.hostName(noPort) == "registry.example")
    }
}
