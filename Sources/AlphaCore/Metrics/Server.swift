import CAlphaCoreShims
import Glibc
import Synchronization

/// One client of the scrape endpoint. Its request buffer is a fixed slice of the server's
/// buffer block, so a client can never make the server allocate more than its limits.
struct ScrapeConnection {
    var fd: Int32 = -1
    var used = 0            // request bytes buffered
    var deadline: Int64 = 0 // monotonic ns: close when passed
    var since: Int64 = 0    // when it last started waiting (eviction order)
    var out: [UInt8] = []   // response being written
    var sent = 0
    var closeAfter = false
}

/// The embedded scrape endpoint: one thread, one epoll loop, non-blocking sockets, fixed limits.
/// Scrapes read the registry under its lock; recording threads never see the server at all.
public final class MetricsServer: @unchecked Sendable {
    let registry: MetricsRegistry
    let options: ServeOptions
    let listenFd: Int32
    let epollFd: Int32
    let wakeFd: Int32
    let wakeWriteFd: Int32
    public let port: UInt16
    var thread: pthread_t?
    let conns: UnsafeMutablePointer<ScrapeConnection>
    let buffers: UnsafeMutablePointer<UInt8>
    /// The CPUs the server thread runs on (nil: not pinned), set once it started.
    public private(set) var pinnedCPUs: CPUSet?
    public let scrapes = Atomic<UInt64>(0)
    static let wakeToken = UInt64.max, listenToken = UInt64.max - 1

    init(registry: MetricsRegistry, options: ServeOptions, listenFd: Int32, epollFd: Int32, wake: (Int32, Int32)) {
        self.registry = registry; self.options = options
        self.listenFd = listenFd; self.epollFd = epollFd; self.wakeFd = wake.0; self.wakeWriteFd = wake.1
        port = ListenAddress.boundPort(listenFd)
        conns = .allocate(capacity: options.maxConnections)
        conns.initialize(repeating: ScrapeConnection(), count: options.maxConnections)
        buffers = .allocate(capacity: options.maxConnections * options.maxRequestBytes)
    }

    deinit {
        conns.deinitialize(count: options.maxConnections)
        conns.deallocate()
        buffers.deallocate()
    }

    /// Binds (in the caller's thread, so EADDRINUSE and EINVAL come back at once), then starts
    /// the server thread.
    public static func start(registry: MetricsRegistry, listen: String, options: ServeOptions) throws(Errno) -> MetricsServer {
        try options.validate()
        let address = try ListenAddress.parse(listen)
        if !address.loopback && !options.allowRemote {
            throw Errno.fail(EINVAL, "listen address \"\(MetricNames.printable(listen))\" is not loopback; set ALPHACORE_SERVE_REMOTE to allow it")
        }
        let cpus = options.cpus ?? defaultCPUs(registry)
        let lfd = try address.listen()
        let efd = epoll_create1(Int32(EPOLL_CLOEXEC))
        // The wake-up channel: a socket pair (stop writes a byte to one end, the loop watches the other).
        var pair: [Int32] = [-1, -1]
        let prc = socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair)
        if efd < 0 || prc != 0 {
            let err = Errno.fromErrno("epoll_create1/socketpair")
            close(lfd); if efd >= 0 { close(efd) }; if prc == 0 { close(pair[0]); close(pair[1]) }
            throw err
        }
        let wfd = pair[0]
        let server = MetricsServer(registry: registry, options: options, listenFd: lfd, epollFd: efd, wake: (wfd, pair[1]))
        server.watch(lfd, token: listenToken, events: EPOLLIN.rawValue)
        server.watch(wfd, token: wakeToken, events: EPOLLIN.rawValue)
        guard let t = PThread.start({ server.run(cpus: cpus) }) else {
            server.closeAll()
            throw Errno.fail(EAGAIN, "cannot start the server thread")
        }
        server.thread = t
        return server
    }

    /// Stops the thread and closes every socket; returns when both are gone. Idempotent.
    public func stop() {
        guard let t = thread else { return }
        var one: UInt8 = 1
        _ = send(wakeWriteFd, &one, 1, Int32(MSG_NOSIGNAL))
        pthread_join(t, nil)
        thread = nil
    }

    func watch(_ fd: Int32, token: UInt64, events: UInt32) {
        var ev = epoll_event(events: events, data: epoll_data_t(u64: token))
        _ = epoll_ctl(epollFd, EPOLL_CTL_ADD, fd, &ev)
    }

    func rewatch(_ slot: Int, writing: Bool) {
        var ev = epoll_event(events: (writing ? EPOLLOUT.rawValue : EPOLLIN.rawValue) | EPOLLRDHUP.rawValue,
                             data: epoll_data_t(u64: UInt64(slot)))
        _ = epoll_ctl(epollFd, EPOLL_CTL_MOD, conns[slot].fd, &ev)
    }

    static func now() -> Int64 { Int64(bitPattern: Clock.nowNanoseconds()) }

    func run(cpus: CPUSet?) {
        if let cpus, !cpus.isEmpty, (try? Pinning.pinCurrentThread(to: cpus)) != nil { pinnedCPUs = cpus }
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        var running = true
        while running {
            let timeout = nextTimeoutMs()
            let n = Int(events.withUnsafeMutableBufferPointer { epoll_wait(epollFd, $0.baseAddress, 64, timeout) })
            for i in 0..<max(n, 0) {
                let token = events[i].data.u64, flags = events[i].events
                switch token {
                case MetricsServer.wakeToken: running = false
                case MetricsServer.listenToken: acceptAll()
                default:
                    let slot = Int(token)
                    guard slot < options.maxConnections, conns[slot].fd >= 0 else { continue }
                    if flags & EPOLLOUT.rawValue != 0 { flush(slot) }
                    else { readable(slot) }
                }
            }
            expire()
        }
        closeAll()
    }

    func nextTimeoutMs() -> Int32 {
        let now = MetricsServer.now()
        var nearest = now + 1_000_000_000
        for s in 0..<options.maxConnections where conns[s].fd >= 0 { nearest = min(nearest, conns[s].deadline) }
        return Int32(max(0, (nearest - now) / 1_000_000 + 1))
    }

    func closeAll() {
        for s in 0..<options.maxConnections where conns[s].fd >= 0 { drop(s) }
        close(listenFd); close(epollFd); close(wakeFd); close(wakeWriteFd)
    }

    func drop(_ slot: Int) {
        close(conns[slot].fd)   // closing removes it from the epoll set
        conns[slot] = ScrapeConnection()
    }

    func expire() {
        let now = MetricsServer.now()
        for s in 0..<options.maxConnections where conns[s].fd >= 0 && now > conns[s].deadline { drop(s) }
    }
}
