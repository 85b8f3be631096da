import CAlphaCoreShims
import Glibc

/// Limits and placement of the scrape endpoint.
public struct ServeOptions: Sendable {
    /// Connections served at once; a new one beyond this evicts the connection that has waited
    /// longest (a stalled or idle client), so a scrape always gets in.
    public var maxConnections = 16
    /// Time allowed for one request, from its first byte to the end of the response (ms).
    public var requestTimeoutMs = 5000
    /// Time an idle keep-alive connection is kept (ms).
    public var idleTimeoutMs = 60000
    /// Bytes of one request head (request line and headers); beyond it: 413.
    public var maxRequestBytes = 8192
    /// Header lines of one request; beyond it: 413.
    public var maxHeaders = 64
    /// Where the server thread runs: nil = the allowed CPUs that no role and no registered
    /// pinned thread uses (unpinned when that leaves none); an empty set = not pinned.
    public var cpus: CPUSet? = nil
    /// Listen on a non-loopback address (refused otherwise).
    public var allowRemote = false
    public init() {}

    func validate() throws(Errno) {
        guard (1...4096).contains(maxConnections) else { throw Errno.fail(EINVAL, "max_connections \(maxConnections) is outside 1...4096") }
        guard (10...600_000).contains(requestTimeoutMs) else { throw Errno.fail(EINVAL, "request_timeout_ms \(requestTimeoutMs) is outside 10...600000") }
        guard (10...3_600_000).contains(idleTimeoutMs) else { throw Errno.fail(EINVAL, "idle_timeout_ms \(idleTimeoutMs) is outside 10...3600000") }
        guard (256...1 << 20).contains(maxRequestBytes) else { throw Errno.fail(EINVAL, "max_request_bytes \(maxRequestBytes) is outside 256...1048576") }
        guard (1...10_000).contains(maxHeaders) else { throw Errno.fail(EINVAL, "max_headers \(maxHeaders) is outside 1...10000") }
    }
}

/// A parsed listen address.
struct ListenAddress {
    var family: Int32
    var storage = sockaddr_storage()
    var length: socklen_t = 0
    var loopback = false

    /// "127.0.0.1:9464", "[::1]:0", "localhost:9464", ":9464" (= 127.0.0.1), "0.0.0.0:9464".
    static func parse(_ text: String) throws(Errno) -> ListenAddress {
        let u = Array(text.utf8)
        var host: String, portText: String
        if u.first == 91 {   // [v6]:port
            guard let close = u.firstIndex(of: 93), close + 1 < u.count, u[close + 1] == 58 else {
                throw Errno.fail(EINVAL, "listen address \"\(MetricNames.printable(text))\" is not [IPv6]:port")
            }
            host = String(decoding: u[1..<close], as: UTF8.self)
            portText = String(decoding: u[(close + 2)...], as: UTF8.self)
        } else {
            guard let colon = u.lastIndex(of: 58) else {
                throw Errno.fail(EINVAL, "listen address \"\(MetricNames.printable(text))\" has no :port")
            }
            host = String(decoding: u[0..<colon], as: UTF8.self)
            portText = String(decoding: u[(colon + 1)...], as: UTF8.self)
        }
        guard !portText.isEmpty, portText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), portText.utf8.count <= 5,
              let port = Int(portText), port <= 65535 else {
            throw Errno.fail(EINVAL, "listen address \"\(MetricNames.printable(text))\": port \"\(MetricNames.printable(portText))\" is not 0...65535")
        }
        if host.isEmpty || host == "localhost" { host = "127.0.0.1" }
        var a = ListenAddress(family: AF_INET)
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = in_port_t(UInt16(port).bigEndian)
            sin.sin_addr = v4
            withUnsafeBytes(of: &sin) { src in withUnsafeMutableBytes(of: &a.storage) { $0.copyMemory(from: src) } }
            a.length = socklen_t(MemoryLayout<sockaddr_in>.size)
            a.loopback = UInt32(bigEndian: v4.s_addr) >> 24 == 127
        } else if inet_pton(AF_INET6, host, &v6) == 1 {
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = in_port_t(UInt16(port).bigEndian)
            sin6.sin6_addr = v6
            withUnsafeBytes(of: &sin6) { src in withUnsafeMutableBytes(of: &a.storage) { $0.copyMemory(from: src) } }
            a.family = AF_INET6
            a.length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            a.loopback = withUnsafeBytes(of: &v6) { b in b.prefix(15).allSatisfy { $0 == 0 } && b[15] == 1 }
        } else {
            throw Errno.fail(EINVAL, "listen address \"\(MetricNames.printable(text))\": \"\(MetricNames.printable(host))\" is not an IPv4 or IPv6 address")
        }
        return a
    }

    /// A non-blocking listening socket bound to the address.
    func listen() throws(Errno) -> Int32 {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw Errno.fromErrno("socket") }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var st = storage
        let bound = withUnsafePointer(to: &st) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { a in SystemCall.valueOrErrno { bind(fd, a, length) } }
        }
        if case .failure(let failure) = bound {
            let e = failure.code
            close(fd)
            throw Errno.fail(e, e == EADDRINUSE ? "the listen address is taken (EADDRINUSE)" : "bind failed: \(Errno(e))")
        }
        if Glibc.listen(fd, 128) != 0 {
            let err = Errno.fromErrno("listen")
            close(fd)
            throw err
        }
        return fd
    }

    /// The port the kernel gave (for port 0).
    static func boundPort(_ fd: Int32) -> UInt16 {
        var st = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &st) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        if rc != 0 { return 0 }
        return withUnsafeBytes(of: &st) { b in UInt16(b[2]) << 8 | UInt16(b[3]) }
    }
}

extension MetricsServer {
    /// The default CPUs for the server thread: allowed minus every role's CPUs minus the CPUs of
    /// threads registered as pinned; nil (do not pin) when nothing is left.
    static func defaultCPUs(_ registry: MetricsRegistry) -> CPUSet? {
        guard let t = try? Topology.current else { return nil }
        var hot = CPUSet([])
        for r in ((try? Roles.current)?.roles ?? []) { hot = hot.union(r.cpus) }
        registry.withFamilies { families in
            for f in families {
                for m in f.members {
                    if case .thread(_, let cpus, _) = m.source, cpus != t.allowed { hot = hot.union(cpus) }
                }
            }
        }
        let left = t.allowed.subtracting(hot)
        return left.isEmpty || left == t.allowed ? nil : left
    }
}
