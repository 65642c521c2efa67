import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Takes a response body as it arrives, so a layer never sits whole in memory.
protocol BodySink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

/// One finished exchange. `body` holds the bytes unless a sink took them (2xx with a sink).
struct HTTPResponse {
    let status: Int
    /// Header names in lower case.
    let headers: [String: String]
    let body: [UInt8]
    /// Where the answer came from: the request's URL, or the last redirect's.
    let url: URL?

    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Why an exchange produced no response.
enum TransportError: Error {
    /// URLSession failed: no connection, unknown host, TLS, timeout.
    case failed(code: URLError.Code?, message: String)
    /// The sink refused the bytes (digest or size check, disk full): its own error.
    case sink(any Error)
    /// A body meant for memory was larger than allowed.
    case tooLarge(limit: Int)
    /// A redirect from https to plain http: not followed.
    case insecureRedirect(to: String)
}

/// URLSession behind a blocking call. Blob bodies stream into a sink chunk by chunk; other
/// bodies are kept, up to a limit. Redirects are followed, never from https to http; the
/// `Authorization` header is dropped when a redirect leaves the registry's origin (blob storage
/// on another host has its own signed URL and would reject, or leak, the registry's token).
final class HTTPTransport: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let lock = NSLock()
    private var transfers: [Int: Transfer] = [:]
    private var session: URLSession?

    override init() {
        super.init()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.urlCache = nil
        configuration.urlCredentialStorage = nil
        configuration.httpCookieStorage = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.timeoutIntervalForRequest = 120  // idle time, not the whole transfer
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        session = URLSession(configuration: configuration, delegate: self, delegateQueue: queue)
    }

    /// The session holds its delegate until invalidated; the owner calls this when done.
    func close() {
        lock.withLock { session }?.finishTasksAndInvalidate()
    }

    /// Sends one request and waits for the whole response.
    func send(_ request: URLRequest, sink: (any BodySink)?, limit: Int) throws(TransportError) -> HTTPResponse {
        guard let session = lock.withLock({ session }) else { throw .failed(code: nil, message: "closed") }
        let task = session.dataTask(with: request)
        let transfer = Transfer(
            sink: sink, limit: limit, origin: request.url.map(Self.origin),
            authorization: request.value(forHTTPHeaderField: "Authorization"))
        lock.withLock { transfers[task.taskIdentifier] = transfer }
        task.resume()
        transfer.done.wait()
        lock.withLock { transfers[task.taskIdentifier] = nil }
        if let failure = transfer.failure { throw failure }
        guard let response = transfer.response else { throw .failed(code: nil, message: "no response") }
        var headers: [String: String] = [:]
        for (name, value) in response.allHeaderFields {
            if let name = name as? String { headers[name.lowercased()] = "\(value)" }
        }
        return HTTPResponse(status: response.statusCode, headers: headers, body: transfer.body, url: response.url ?? request.url)
    }

    private func transfer(_ task: URLSessionTask) -> Transfer? {
        lock.withLock { transfers[task.taskIdentifier] }
    }

    static func origin(_ url: URL) -> String {
        "\(url.scheme ?? "")://\(url.host ?? ""):\(url.port.map(String.init) ?? "")"
    }

    // MARK: URLSessionDataDelegate (called on the session's serial queue)

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        if let transfer = transfer(dataTask), let http = response as? HTTPURLResponse {
            transfer.response = http
            transfer.streaming = transfer.sink != nil && (200..<300).contains(http.statusCode)
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard let transfer = transfer(dataTask), transfer.failure == nil else { return }
        if transfer.streaming, let sink = transfer.sink {
            do {
                try data.withUnsafeBytes { try sink.write($0) }
            } catch {
                transfer.failure = .sink(error)
                dataTask.cancel()
            }
        } else if transfer.body.count + data.count <= transfer.limit {
            transfer.body.append(contentsOf: data)
        } else {
            transfer.failure = .tooLarge(limit: transfer.limit)
            dataTask.cancel()
        }
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        var next = request
        let transfer = transfer(task)
        if task.originalRequest?.url?.scheme?.lowercased() == "https", request.url?.scheme?.lowercased() != "https" {
            // Downgrading would send the request, and whatever it carries, in the clear.
            transfer?.failure = .insecureRedirect(to: request.url?.absoluteString ?? "")
            completionHandler(nil)
            return
        }
        let sameOrigin = request.url.map(Self.origin) == transfer?.origin
        next.setValue(sameOrigin ? transfer?.authorization : nil, forHTTPHeaderField: "Authorization")
        completionHandler(next)
    }

    /// swift-corelibs-foundation turns a 401 with a `Basic` challenge into this call, and with
    /// the default handling never finishes the task. The client answers challenges itself, so
    /// this one is cancelled; the 401 response has arrived already and is what `send` returns.
    func urlSession(
        _ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
        completionHandler: @escaping @Sendable (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) {
        transfer(task)?.challenged = true
        completionHandler(.cancelAuthenticationChallenge, nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        guard let transfer = transfer(task) else { return }
        let answeredChallenge = transfer.challenged && transfer.response?.statusCode == 401
        if transfer.failure == nil, let error, !answeredChallenge {
            let urlError = error as? URLError
            transfer.failure = .failed(code: urlError?.code, message: error.localizedDescription)
        }
        transfer.done.signal()
    }
}

/// The state of one request. Written on the delegate queue, read by the waiting caller after
/// `done` is signalled (the semaphore orders the two).
private final class Transfer: @unchecked Sendable {
    let sink: (any BodySink)?
    let limit: Int
    let origin: String?
    let authorization: String?
    let done = DispatchSemaphore(value: 0)
    var response: HTTPURLResponse?
    var streaming = false
    var challenged = false
    var body: [UInt8] = []
    var failure: TransportError?

    init(sink: (any BodySink)?, limit: Int, origin: String?, authorization: String?) {
        self.sink = sink
        self.limit = limit
        self.origin = origin
        self.authorization = authorization
    }
}
