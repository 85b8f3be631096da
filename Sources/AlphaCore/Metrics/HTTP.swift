/// The scrape endpoint's HTTP/1.1: just enough to serve `GET /metrics` safely. Pure functions
/// over bytes, so that the parser is tested without sockets.
public struct HTTPRequest: Sendable {
    public var method: String
    public var path: String
    public var minorVersion: Int
    public var accept = ""
    public var acceptEncoding = ""
    public var closeAfter = false
}

public enum HTTPParse: Sendable {
    case incomplete
    case request(HTTPRequest, consumed: Int)
    case failure(status: Int, reason: String)
}

public enum HTTP {
    /// Parses one request from the start of `buf`. `incomplete` until the blank line arrives;
    /// a request with a body (Content-Length > 0 or Transfer-Encoding) is refused with 400.
    public static func parse(_ buf: UnsafeBufferPointer<UInt8>, maxHeaders: Int) -> HTTPParse {
        guard let end = headerEnd(buf) else {
            // Count lines so far: a flood of headers is refused before the buffer fills.
            var lines = 0
            for b in buf where b == 10 { lines += 1 }
            return lines > maxHeaders + 1 ? .failure(status: 413, reason: "more than \(maxHeaders) header lines") : .incomplete
        }
        let head = Array(buf[0..<end.headerBytes])
        var lines = split(head)
        guard !lines.isEmpty else { return .failure(status: 400, reason: "empty request") }
        let requestLine = lines.removeFirst()
        let parts = requestLine.split(separator: 32, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .failure(status: 400, reason: "malformed request line") }
        let method = String(decoding: parts[0], as: UTF8.self)
        let target = String(decoding: parts[1], as: UTF8.self)
        let version = String(decoding: parts[2], as: UTF8.self)
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else { return .failure(status: 400, reason: "unsupported version") }
        guard !method.isEmpty, method.utf8.allSatisfy({ $0 >= 65 && $0 <= 90 }) else {
            return .failure(status: 400, reason: "malformed method")
        }
        guard target.hasPrefix("/"), target.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
            return .failure(status: 400, reason: "malformed target")
        }
        if lines.count > maxHeaders { return .failure(status: 413, reason: "more than \(maxHeaders) headers") }
        var req = HTTPRequest(method: method, path: String(target.utf8.prefix { $0 != 63 }) ?? target,
                              minorVersion: version == "HTTP/1.1" ? 1 : 0)
        var keepAliveAsked = false
        for line in lines {
            guard let colon = line.firstIndex(of: 58), colon > line.startIndex else { return .failure(status: 400, reason: "malformed header") }
            let name = lower(line[line.startIndex..<colon])
            if name.utf8.contains(where: { $0 <= 32 || $0 >= 127 }) { return .failure(status: 400, reason: "malformed header name") }
            let value = trim(line[(colon + 1)...])
            switch name {
            case "accept": req.accept += (req.accept.isEmpty ? "" : ",") + value
            case "accept-encoding": req.acceptEncoding += (req.acceptEncoding.isEmpty ? "" : ",") + value
            case "connection":
                let v = value.lowercased()
                if v.containsText("close") { req.closeAfter = true }
                if v.containsText("keep-alive") { keepAliveAsked = true }
            case "content-length":
                if value != "0" { return .failure(status: 400, reason: "a scrape request has no body") }
            case "transfer-encoding":
                return .failure(status: 400, reason: "a scrape request has no body")
            default: break
            }
        }
        if req.minorVersion == 0 && !keepAliveAsked { req.closeAfter = true }
        return .request(req, consumed: end.consumed)
    }

    static func headerEnd(_ b: UnsafeBufferPointer<UInt8>) -> (headerBytes: Int, consumed: Int)? {
        var i = 0
        while i < b.count {
            if b[i] == 10 {
                if i + 1 < b.count && b[i + 1] == 10 { return (i, i + 2) }
                if i + 2 < b.count && b[i + 1] == 13 && b[i + 2] == 10 { return (i, i + 3) }
            }
            i += 1
        }
        return nil
    }

    static func split(_ head: [UInt8]) -> [ArraySlice<UInt8>] {
        head.split(separator: 10, omittingEmptySubsequences: false).map { $0.last == 13 ? $0.dropLast() : $0 }
    }

    static func lower(_ s: ArraySlice<UInt8>) -> String {
        String(decoding: s.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }

    static func trim(_ s: ArraySlice<UInt8>) -> String {
        var t = s
        while let f = t.first, f == 32 || f == 9 { t = t.dropFirst() }
        while let l = t.last, l == 32 || l == 9 { t = t.dropLast() }
        return String(decoding: t, as: UTF8.self)
    }

    /// The format an Accept header asks for: the supported media range with the highest q
    /// (the first listed on a tie); text 0.0.4 when nothing matches or there is no header.
    public static func negotiate(_ accept: String) -> MetricsFormat {
        var best: (MetricsFormat, Double)? = nil
        for range in accept.split(separator: ",") {
            let params = range.split(separator: ";").map { String($0).trimmingSpaces.lowercased() }
            guard let type = params.first else { continue }
            var q = 1.0, proto = "", encoding = "", version = ""
            for p in params.dropFirst() {
                let kv = p.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces }
                guard kv.count == 2 else { continue }
                switch kv[0] {
                case "q": q = Double(kv[1]) ?? 0
                case "proto": proto = kv[1]
                case "encoding": encoding = kv[1]
                case "version": version = kv[1]
                default: break
                }
            }
            let format: MetricsFormat?
            switch type {
            case "application/vnd.google.protobuf":
                format = (proto.isEmpty || proto == "io.prometheus.client.metricfamily") && (encoding.isEmpty || encoding == "delimited") ? .protobuf : nil
            case "application/openmetrics-text":
                format = version.isEmpty || version == "1.0.0" || version == "0.0.1" ? .openMetrics : nil
            case "text/plain", "*/*", "text/*": format = .text
            default: format = nil
            }
            if let f = format, q > 0, q > (best?.1 ?? 0) { best = (f, q) }
        }
        return best?.0 ?? .text
    }

    /// Whether Accept-Encoding allows gzip (listed without q=0).
    public static func wantsGzip(_ acceptEncoding: String) -> Bool {
        for item in acceptEncoding.split(separator: ",") {
            let params = item.split(separator: ";").map { String($0).trimmingSpaces.lowercased() }
            guard params.first == "gzip" else { continue }
            let q = params.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            return q > 0
        }
        return false
    }

    /// A complete response head.
    public static func head(status: Int, contentType: String, length: Int, gzip: Bool, close: Bool,
                            extra: String = "") -> [UInt8] {
        let reason: String
        switch status {
        case 200: reason = "OK"
        case 400: reason = "Bad Request"
        case 404: reason = "Not Found"
        case 405: reason = "Method Not Allowed"
        case 408: reason = "Request Timeout"
        case 413: reason = "Content Too Large"
        default: reason = "Internal Server Error"
        }
        var s = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(contentType)\r\nContent-Length: \(length)\r\n"
        if gzip { s += "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n" }
        s += extra
        s += close ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n"
        return Array(s.utf8)
    }

    /// An error response (the connection closes after it).
    public static func error(_ status: Int, _ reason: String) -> [UInt8] {
        let body = Array("\(reason)\n".utf8)
        return head(status: status, contentType: "text/plain; charset=utf-8", length: body.count, gzip: false,
                    close: true, extra: status == 405 ? "Allow: GET, HEAD\r\n" : "") + body
    }
}

extension String {
    var trimmingSpaces: String {
        var t = Substring(self)
        while let f = t.first, f == " " || f == "\t" { t = t.dropFirst() }
        while let l = t.last, l == " " || l == "\t" { t = t.dropLast() }
        return String(t)
    }
}
