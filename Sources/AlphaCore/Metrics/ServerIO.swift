import CAlphaCoreShims
import Glibc

/// The server thread's socket work: accept, read, answer, write.
extension MetricsServer {
    func acceptAll() {
        while true {
            let fd = accept(listenFd, nil, nil)
            if fd < 0 { return }   // EAGAIN, or a connection that died in the queue
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            let slot = freeSlot()
            let now = MetricsServer.now()
            conns[slot] = ScrapeConnection(fd: fd, used: 0, deadline: now + Int64(options.requestTimeoutMs) * 1_000_000,
                                           since: now, out: [], sent: 0, closeAfter: false)
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            var ev = epoll_event(events: EPOLLIN.rawValue | EPOLLRDHUP.rawValue, data: epoll_data_t(u64: UInt64(slot)))
            _ = epoll_ctl(epollFd, EPOLL_CTL_ADD, fd, &ev)
        }
    }

    /// A free slot, or the one that has waited longest without a response under way (evicted).
    func freeSlot() -> Int {
        var oldest = 0, oldestSince = Int64.max, oldestWriting = true
        for s in 0..<options.maxConnections {
            let c = conns[s]
            if c.fd < 0 { return s }
            let writing = !c.out.isEmpty
            if (oldestWriting && !writing) || (writing == oldestWriting && c.since < oldestSince) {
                oldest = s; oldestSince = c.since; oldestWriting = writing
            }
        }
        drop(oldest)
        return oldest
    }

    func buffer(_ slot: Int) -> UnsafeMutablePointer<UInt8> { buffers + slot * options.maxRequestBytes }

    func readable(_ slot: Int) {
        let cap = options.maxRequestBytes
        while conns[slot].used < cap {
            let n = read(conns[slot].fd, buffer(slot) + conns[slot].used, cap - conns[slot].used)
            if n > 0 {
                if conns[slot].used == 0 { startRequest(slot) }
                conns[slot].used += n
                continue
            }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { break }
            drop(slot)   // end of stream or an error
            return
        }
        answer(slot)
    }

    func startRequest(_ slot: Int) {
        let now = MetricsServer.now()
        conns[slot].since = now
        conns[slot].deadline = now + Int64(options.requestTimeoutMs) * 1_000_000
    }

    /// Parses what is buffered and queues the response (one request at a time).
    func answer(_ slot: Int) {
        guard conns[slot].fd >= 0, conns[slot].out.isEmpty, conns[slot].used > 0 else { return }
        let parsed = HTTP.parse(UnsafeBufferPointer(start: buffer(slot), count: conns[slot].used), maxHeaders: options.maxHeaders)
        switch parsed {
        case .incomplete:
            if conns[slot].used == options.maxRequestBytes {
                respond(slot, HTTP.error(413, "request head larger than \(options.maxRequestBytes) bytes"), close: true)
            }
        case .failure(let status, let reason):
            respond(slot, HTTP.error(status, reason), close: true)
        case .request(let req, let consumed):
            let rest = conns[slot].used - consumed
            if rest > 0 { memmove(buffer(slot), buffer(slot) + consumed, rest) }
            conns[slot].used = rest
            let (bytes, close) = response(req)
            respond(slot, bytes, close: close)
        }
    }

    /// The response to a parsed request, and whether the connection closes after it.
    func response(_ req: HTTPRequest) -> ([UInt8], Bool) {
        guard req.method == "GET" || req.method == "HEAD" else { return (HTTP.error(405, "only GET and HEAD"), true) }
        guard req.path == "/metrics" else { return (HTTP.error(404, "the metrics are at /metrics"), true) }
        let format = HTTP.negotiate(req.accept)
        var body = registry.expose(format)
        scrapes.wrappingAdd(1, ordering: .relaxed)
        var gzip = false
        if HTTP.wantsGzip(req.acceptEncoding), let z = Gzip.compress(body) { body = z; gzip = true }
        let head = HTTP.head(status: 200, contentType: format.contentType, length: body.count, gzip: gzip,
                             close: req.closeAfter)
        return (req.method == "HEAD" ? head : head + body, req.closeAfter)
    }

    func respond(_ slot: Int, _ bytes: [UInt8], close: Bool) {
        conns[slot].out = bytes
        conns[slot].sent = 0
        conns[slot].closeAfter = close
        conns[slot].deadline = MetricsServer.now() + Int64(options.requestTimeoutMs) * 1_000_000
        flush(slot)
    }

    func flush(_ slot: Int) {
        while conns[slot].sent < conns[slot].out.count {
            let sent = conns[slot].sent
            let n = conns[slot].out.withUnsafeBytes { b in
                send(conns[slot].fd, b.baseAddress! + sent, b.count - sent, Int32(MSG_NOSIGNAL))
            }
            if n > 0 { conns[slot].sent += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { rewatch(slot, writing: true); return }
            drop(slot)
            return
        }
        if conns[slot].closeAfter { drop(slot); return }
        conns[slot].out = []
        conns[slot].sent = 0
        rewatch(slot, writing: false)
        let now = MetricsServer.now()
        if conns[slot].used > 0 {
            startRequest(slot)
            answer(slot)   // a pipelined request already buffered
        } else {
            conns[slot].since = now
            conns[slot].deadline = now + Int64(options.idleTimeoutMs) * 1_000_000
        }
    }
}
