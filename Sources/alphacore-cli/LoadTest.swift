// The market-data feed simulator behind `alphacore loadtest`: a paced producer writes batches of
// fixed-size messages over loopback TCP (and UDP) connections; the consumer is the library's
// batch reader on a pinned thread; latency goes into two interval recorders, one from the
// message's send time (raw) and one from its scheduled time at the target rate (corrected for
// coordinated omission: a producer that falls behind cannot hide the delay).
import AlphaCore
import Glibc
import Synchronization

/// The message layout (little-endian), `size` bytes each:
///   0  u64  scheduled time (cycles)    8  u64  send time (cycles)
///   16 u32  connection                 20 u32  check (connection ^ 0xA5A5A5A5)
///   24 u64  sequence on the connection 32...   filler
enum FeedMessage {
    static let headerBytes = 32

    @inline(__always)
    static func write(_ p: UnsafeMutableRawPointer, scheduled: UInt64, sent: UInt64, conn: UInt32, seq: UInt64) {
        p.storeBytes(of: scheduled.littleEndian, toByteOffset: 0, as: UInt64.self)
        p.storeBytes(of: sent.littleEndian, toByteOffset: 8, as: UInt64.self)
        p.storeBytes(of: conn.littleEndian, toByteOffset: 16, as: UInt32.self)
        p.storeBytes(of: (conn ^ 0xA5A5_A5A5).littleEndian, toByteOffset: 20, as: UInt32.self)
        p.storeBytes(of: seq.littleEndian, toByteOffset: 24, as: UInt64.self)
    }
}

struct LoadTestConfig {
    var tcp = 256
    var udp = 0
    var rate = 1_000_000.0
    var size = 64
    var batch = 16
    var seconds = 10.0
    var backend: ReaderBackend = .auto
    var profile: LoadTestProfile = .latency
    /// `.spin`: the spin budget per poll in µs (0: the library's default).
    var spinMicros: UInt32 = 0
    var hugePages = true
    var consumerCPU: Int? = nil
    var producerCPU: Int? = nil
    var logPath: String? = "loadtest.hlog"
    /// SCHED_FIFO priority (1-99) or nice value for the producer and consumer threads; nil: leave as is.
    var realtime: Int? = nil
    var nice: Int? = nil
    var progress = true
    /// `--metrics ADDR`: serve the recorders to Prometheus during the run.
    var metricsAddress: String? = nil
    var connections: Int { tcp + udp }
}

/// Counters shared between threads (relaxed atomics in stable storage).
final class LoadTestShared: @unchecked Sendable {
    private let cells = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: 12)
    enum Cell: Int {
        case sent = 0, received, stop, consumerReady, consumerDone, lost, corrupt, errors, producerDone, bytes, outOfRange, eofs
    }
    init() { for i in 0..<12 { (cells + i).initialize(to: Atomic(0)) } }
    deinit { cells.deinitialize(count: 12); cells.deallocate() }
    @inline(__always) func add(_ c: Cell, _ v: Int) { cells[c.rawValue].wrappingAdd(v, ordering: .relaxed) }
    @inline(__always) func get(_ c: Cell) -> Int { cells[c.rawValue].load(ordering: .acquiring) }
    func set(_ c: Cell, _ v: Int) { cells[c.rawValue].store(v, ordering: .releasing) }
}

/// Loopback sockets: TCP pairs through one listener, UDP pairs bound to each other.
enum Loopback {
    static func address(port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian   // 127.0.0.1 only
        return a
    }

    static func bind(_ fd: Int32, _ a: sockaddr_in) -> Int32 {
        var a = a
        return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    }

    static func connect(_ fd: Int32, _ a: sockaddr_in) -> Int32 {
        var a = a
        return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    }

    static func localAddress(_ fd: Int32) -> sockaddr_in {
        var a = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return a
    }

    static func setInt(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var v = value
        _ = setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size))
    }

    /// `n` connected TCP pairs (producer side, consumer side), or why not.
    static func tcpPairs(_ n: Int) throws(Errno) -> [(Int32, Int32)] {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if listener < 0 { throw Errno.fromErrno("socket") }
        defer { close(listener) }
        setInt(listener, SOL_SOCKET, SO_REUSEADDR, 1)
        if bind(listener, address(port: 0)) != 0 { throw Errno.fromErrno("bind 127.0.0.1") }
        if listen(listener, Int32(min(n, 4096))) != 0 { throw Errno.fromErrno("listen") }
        let target = localAddress(listener)
        var pairs: [(Int32, Int32)] = []
        do throws(Errno) {
            for _ in 0..<n {
                let c = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                if c < 0 { throw Errno.fromErrno("socket (\(pairs.count) connections open; raise ulimit -n?)") }
                if connect(c, target) != 0 { close(c); throw Errno.fromErrno("connect to 127.0.0.1") }
                let s = accept(listener, nil, nil)
                if s < 0 { close(c); throw Errno.fromErrno("accept") }
                _ = fcntl(s, F_SETFD, FD_CLOEXEC)
                setInt(c, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
                pairs.append((c, s))
            }
        } catch {
            for (a, b) in pairs { close(a); close(b) }
            throw error
        }
        return pairs
    }

    /// `n` connected UDP pairs.
    static func udpPairs(_ n: Int) throws(Errno) -> [(Int32, Int32)] {
        var pairs: [(Int32, Int32)] = []
        do throws(Errno) {
            for _ in 0..<n {
                let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                let c = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                if s < 0 || c < 0 { if s >= 0 { close(s) }; if c >= 0 { close(c) }; throw Errno.fromErrno("socket") }
                setInt(s, SOL_SOCKET, SO_RCVBUF, 4 << 20)
                if bind(s, address(port: 0)) != 0 || bind(c, address(port: 0)) != 0 { close(s); close(c); throw Errno.fromErrno("bind 127.0.0.1") }
                if connect(c, localAddress(s)) != 0 || connect(s, localAddress(c)) != 0 { close(s); close(c); throw Errno.fromErrno("connect udp") }
                pairs.append((c, s))
            }
        } catch {
            for (a, b) in pairs { close(a); close(b) }
            throw error
        }
        return pairs
    }
}

/// The paced producer: batch k goes to connection k mod N at start + k * interval.
struct FeedProducer {
    let fds: [Int32]
    let config: LoadTestConfig
    let shared: LoadTestShared
    var maxLagCycles: UInt64 = 0
    var writeErrors = 0

    mutating func run(startCycles: UInt64, endCycles: UInt64) {
        let hz = Double(Clock.cyclesPerSecond)
        let interval = hz * Double(config.batch) / config.rate
        let bytes = config.batch * config.size
        let buf = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        defer { buf.deallocate() }
        memset(buf, 0x5A, bytes)
        var seqs = [UInt64](repeating: 0, count: fds.count)
        let totalBatches = Int64(config.seconds * config.rate / Double(config.batch))
        var k: Int64 = 0
        var sent = 0
        while k < totalBatches {
            let scheduled = startCycles &+ UInt64(Double(k) * interval)
            var now = Clock.cycles()
            if now >= endCycles &+ Clock.cyclesPerSecond { break }   // behind schedule: at most 1 s of catching up
            if scheduled > now {
                // Ahead of schedule: sleep rather than spin, so that a real-time producer does not
                // use up the kernel's real-time budget (sched_rt_runtime_us) and get throttled.
                // Oversleeping shows in the corrected latency, as any producer delay does.
                let waitNs = Clock.nanoseconds(fromCycles: scheduled &- now)
                if waitNs > 2_000 {
                    var ts = timespec(tv_sec: Int(waitNs / 1_000_000_000), tv_nsec: Int(waitNs % 1_000_000_000))
                    nanosleep(&ts, nil)
                }
                now = Clock.cycles()
            } else if now &- scheduled > maxLagCycles {
                maxLagCycles = now &- scheduled
            }
            let conn = Int(k % Int64(fds.count))
            for m in 0..<config.batch {
                FeedMessage.write(buf + m * config.size, scheduled: scheduled, sent: now, conn: UInt32(conn), seq: seqs[conn])
                seqs[conn] &+= 1
            }
            var off = 0
            while off < bytes {
                let n = Glibc.write(fds[conn], buf + off, bytes - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    writeErrors += 1
                    break
                }
                off += n
            }
            if off == bytes {
                sent += config.batch
                if sent & 0x3FF == 0 { shared.add(.sent, 0x400) }
            }
            k += 1
        }
        shared.add(.sent, sent & 0x3FF)
        shared.set(.producerDone, 1)
    }
}

/// The consumer: the library's reader on a pinned thread, fixed-size framing, latency into the
/// recorders.
struct FeedConsumer {
    let fds: [Int32]
    let config: LoadTestConfig
    let shared: LoadTestShared
    let corrected: Recorder
    let raw: Recorder
    var details = ReaderDetails()
    var counters: ReaderCounters? = nil
    var error: String? = nil
    /// When the last message arrived (cycles).
    var lastArrival: UInt64 = 0

    /// The reader for the feed: fixed-size framing, the profile's options.
    func makeReader() throws(Errno) -> Reader {
        var o = ReaderOptions()
        o.backend = config.backend
        config.profile.apply(to: &o, spinMicros: config.spinMicros)
        if config.hugePages { o.flags.insert(.hugePages) }
        o.capacity = UInt32(max(fds.count, 1))
        o.framing = .fixed
        o.frameSize = UInt32(config.size)
        o.bufferSize = UInt32(max(4096, (config.batch * config.size + 63) / 64 * 64))
        o.bufferCount = 4096
        let reader = try Reader(o)
        do throws(Errno) {
            for (i, fd) in fds.enumerated() { try reader.add(fd: fd, userData: UInt64(i)) }
        } catch {
            reader.destroy()
            throw error
        }
        return reader
    }

    mutating func run() {
        let reader: Reader
        do throws(Errno) { reader = try makeReader() } catch {
            self.error = "reader: \(error.description) (\(Detail.current))"
            shared.set(.consumerReady, -1)
            return
        }
        defer { reader.destroy() }
        details = reader.details
        shared.set(.consumerReady, 1)
        let maxC = 512
        let out = UnsafeMutableBufferPointer<ReaderCompletion>.allocate(capacity: maxC)
        defer { out.deallocate() }
        let values = UnsafeMutablePointer<Int64>.allocate(capacity: 2 * 65536)
        defer { values.deallocate() }
        var expected = [UInt64](repeating: 0, count: fds.count)
        var idleSince: UInt64 = 0
        let minComplete = config.profile.minComplete, minWaitNs = config.profile.minWaitNs
        while true {
            let n: Int
            do throws(Errno) {
                n = try reader.poll(into: out, minComplete: minComplete, minWaitNs: minWaitNs, timeoutNs: 10_000_000)
            } catch {
                if error.code == EINTR { continue }
                self.error = "poll: \(error.description) (\(Detail.current))"
                break
            }
            if n == 0 {
                if drained(&idleSince) { break }
                continue
            }
            idleSince = 0
            take(out, n, values, &expected)
            _ = try? reader.release(UnsafeBufferPointer(rebasing: out[0..<n]))
        }
        counters = reader.counters
        shared.set(.consumerDone, 1)
    }

    /// After the stop: everything sent arrived, or nothing came for 200 ms.
    func drained(_ idleSince: inout UInt64) -> Bool {
        guard shared.get(.stop) != 0 else { return false }
        if shared.get(.producerDone) != 0 && shared.get(.received) >= shared.get(.sent) { return true }
        let now = Clock.cycles()
        if idleSince == 0 { idleSince = now; return false }
        return Clock.nanoseconds(fromCycles: now &- idleSince) > 200_000_000
    }

    /// Checks and records the messages of n completions.
    mutating func take(_ out: UnsafeMutableBufferPointer<ReaderCompletion>, _ n: Int,
                       _ values: UnsafeMutablePointer<Int64>, _ expected: inout [UInt64]) {
        var received = 0
        var bytes = 0
        // One flush a poll, not one a completion: each flush records into two recorders, and a
        // thread's recorder cache holds one, so each switch costs a claim (a gettid system call).
        var k = 0
        for i in 0..<n {
            let c = out[i]
            if c.result <= 0 {
                if c.result == 0 { shared.add(.eofs, 1) } else { shared.add(.errors, 1) }
                continue
            }
            guard let data = c.data else { continue }
            let now = Clock.cycles()
            let count = Int(c.result) / config.size
            bytes += Int(c.result)
            for m in 0..<count where check(data + m * config.size, c.userData, now, values, k, &expected) {
                k += 1
                if k == 65536 { flush(values, k); k = 0 }
            }
            received += count
        }
        flush(values, k)
        if received > 0 { lastArrival = Clock.cycles() }
        shared.add(.received, received)
        shared.add(.bytes, bytes)
    }

    /// One message: its connection, check and sequence; its latencies into values[k] (corrected)
    /// and values[65536 + k] (raw). False if it is corrupt.
    @inline(__always)
    func check(_ p: UnsafeRawPointer, _ userData: UInt64, _ now: UInt64, _ values: UnsafeMutablePointer<Int64>,
               _ k: Int, _ expected: inout [UInt64]) -> Bool {
        let scheduled = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        let sent = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        let conn = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
        let check = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 20, as: UInt32.self))
        let seq = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
        if UInt64(conn) != userData || check != conn ^ 0xA5A5_A5A5 {
            shared.add(.corrupt, 1)
            return false
        }
        let ci = Int(conn)
        if seq != expected[ci] {
            if seq > expected[ci] { shared.add(.lost, Int(seq &- expected[ci])) } else { shared.add(.corrupt, 1) }
        }
        expected[ci] = seq &+ 1
        values[k] = Int64(bitPattern: Clock.nanoseconds(fromCycles: now &- min(now, scheduled)))
        values[65536 + k] = Int64(bitPattern: Clock.nanoseconds(fromCycles: now &- min(now, sent)))
        return true
    }

    @inline(__always)
    func flush(_ values: UnsafeMutablePointer<Int64>, _ k: Int) {
        if k == 0 { return }
        // Batches are all or nothing: a value above the recorders' hour falls back to one by one.
        if corrected.record(batch: values, count: k) != nil {
            var dropped = 0
            for j in 0..<k where !corrected.record(values[j]) { dropped += 1 }
            shared.add(.outOfRange, dropped)
        }
        if raw.record(batch: values + 65536, count: k) != nil {
            for j in 0..<k { _ = raw.record(values[65536 + j]) }
        }
    }
}
