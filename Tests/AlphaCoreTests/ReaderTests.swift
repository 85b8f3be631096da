import Testing
import Glibc
@testable import AlphaCore

// The reader's core through its Swift API (`Reader`), on both backends: real loopback TCP,
// AF_UNIX socketpairs and pipes; every byte checked against a pattern of (stream, offset), so a
// lost, duplicated, reordered or corrupted byte fails the test. No timing assertions: timeouts
// only bound the loops. Each test is synchronous, so one reader stays on one thread.

// MARK: - Helpers

/// Byte `k` of stream `s` (the same function as the C tests' `pattern`).
private func pattern(_ s: UInt32, _ k: UInt64) -> UInt8 {
    let x = ((k &+ 1) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(s) << 40) ^ (k >> 7)
    return UInt8(truncatingIfNeeded: x >> 56)
}

enum ReaderTestStreamKind: CaseIterable, Sendable { case tcp, unix, pipe }

/// A reading end and a non-blocking writing end.
private struct Stream {
    var rx: Int32
    var tx: Int32
}

/// A loopback TCP listener for the pairs of one test.
private final class Loopback {
    let listener: Int32
    init() {
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let ok = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        precondition(ok == 0 && listen(listener, 1024) == 0, "loopback listener")
    }
    deinit { close(listener) }

    func pair() -> Stream {
        var a = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) } }
        let c = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(c, $0, len) } }
        precondition(rc == 0, "connect")
        let s = accept(listener, nil, nil)
        precondition(s >= 0, "accept")
        var one: Int32 = 1
        setsockopt(c, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return Stream(rx: s, tx: c)
    }
}

private func makeStream(_ kind: ReaderTestStreamKind, _ lo: Loopback) -> Stream {
    var st: Stream
    switch kind {
    case .tcp:
        st = lo.pair()
    case .unix:
        var sv: [Int32] = [0, 0]
        precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &sv) == 0)
        st = Stream(rx: sv[0], tx: sv[1])
    case .pipe:
        var p: [Int32] = [0, 0]
        precondition(pipe(&p) == 0)
        st = Stream(rx: p[0], tx: p[1])
    }
    _ = fcntl(st.tx, F_SETFL, fcntl(st.tx, F_GETFL) | O_NONBLOCK)
    return st
}

/// A small deterministic generator (xorshift64*).
private struct Rng {
    var s: UInt64
    mutating func next(_ bound: Int) -> Int {
        s ^= s >> 12; s ^= s << 25; s ^= s >> 27
        return Int((s &* 0x2545_F491_4F6C_DD1D) >> 33) % bound
    }
}

/// Per-stream verification of what a reader hands out.
private struct Verifier {
    var got: [UInt64]
    var bad: [UInt64]
    var ends: [Int]
    var endResult: [Int32]
    var afterEnd = 0
    init(_ n: Int) {
        got = Array(repeating: 0, count: n); bad = Array(repeating: 0, count: n)
        ends = Array(repeating: 0, count: n); endResult = Array(repeating: 1, count: n)
    }
    /// Checks one completion of stream `s` (its user data) read from `fd`.
    mutating func check(_ c: ReaderCompletion, fd: Int32) {
        let s = Int(c.userData)
        #expect(c.fd == fd)
        if ends[s] > 0 { afterEnd += 1 }
        if c.result <= 0 {
            ends[s] += 1
            endResult[s] = c.result
            #expect(c.flags & ReaderCompletion.last != 0)
            #expect(c.bufferID == ReaderCompletion.noBuffer)
            return
        }
        let b = c.bytes
        #expect(b.count == Int(c.result))
        var wrong: UInt64 = 0
        for i in 0..<b.count where b[i] != pattern(UInt32(s), got[s] &+ UInt64(i)) { wrong += 1 }
        bad[s] += wrong
        got[s] += UInt64(b.count)
    }
}

/// Writes as much of stream `s`'s pattern as the (non-blocking) fd takes, in chunks of
/// random size; returns the bytes written.
private func feed(_ fd: Int32, stream s: Int, from: UInt64, upTo total: UInt64, rng: inout Rng) -> UInt64 {
    var at = from
    var chunk = [UInt8](repeating: 0, count: 20000)
    while at < total {
        var n = 1 + rng.next(rng.next(8) == 0 ? 20000 : 3000)
        n = min(n, Int(total - at))
        for i in 0..<n { chunk[i] = pattern(UInt32(s), at + UInt64(i)) }
        let w = chunk.withUnsafeBytes { write(fd, $0.baseAddress, n) }
        if w <= 0 { break }
        at += UInt64(w)
        if w < n { break }
    }
    return at
}

private func options(_ backend: ReaderBackend, count: UInt32 = 256, size: UInt32 = 4096, capacity: UInt32 = 64) -> ReaderOptions {
    var o = ReaderOptions()
    o.backend = backend
    o.bufferCount = count
    o.bufferSize = size
    o.capacity = capacity
    return o
}

/// The errno a throwing call fails with (nil if it did not fail).
private func errnoOf<T>(_ body: () throws(Errno) -> T) -> Int32? {
    do { _ = try body(); return nil } catch { return error.code }
}

private let backends: [ReaderBackend] = [.ioURing, .epoll]

// MARK: - Streams

@Suite struct ReaderStreamTests {
    /// Many streams of each kind written in random chunks while the reader polls, the
    /// consumer holding some completions back: every byte arrives once, in order, then one end.
    @Test(arguments: backends, ReaderTestStreamKind.allCases)
    func everyByteInOrderThenOneEnd(_ backend: ReaderBackend, _ kind: ReaderTestStreamKind) throws {
        let lo = Loopback()
        let reader = try Reader(options(backend, count: 64, size: 2048))
        defer { reader.destroy() }
        #expect(reader.details.backend == backend)
        #expect(reader.details.requested == backend)
        #expect(reader.details.uringErrno == 0)
        let n = 12
        let total: UInt64 = 96 * 1024
        var streams: [Stream] = []
        for i in 0..<n {
            let st = makeStream(kind, lo)
            streams.append(st)
            try reader.add(fd: st.rx, userData: UInt64(i))
        }
        #expect(reader.counters.fds == UInt32(n))
        var sent = [UInt64](repeating: 0, count: n)
        var closed = [Bool](repeating: false, count: n)
        var v = Verifier(n)
        var rng = Rng(s: 0x1234_5678 &+ UInt64(n))
        let out = UnsafeMutableBufferPointer<ReaderCompletion>.allocate(capacity: 64)
        defer { out.deallocate() }
        var held: [(ReaderCompletion, UInt64)] = []   // with the stream offset of their first byte
        var rounds = 0
        var empties = 0
        while v.ends.reduce(0, +) < n && rounds < 200_000 {
            rounds += 1
            for i in 0..<n where !closed[i] {
                sent[i] = feed(streams[i].tx, stream: i, from: sent[i], upTo: total, rng: &rng)
                if sent[i] == total { close(streams[i].tx); closed[i] = true }
            }
            let got = try reader.poll(into: out, minComplete: 1, timeoutNs: 1_000_000_000)
            // A poll may end early with 0 (the library's own wake-ups, see alphacore_reader_poll(3)):
            // five empty polls of 1 s in a row mean a stall.
            if got == 0 {
                empties += 1
                #expect(empties < 5, "five polls in a row returned nothing")
                if empties >= 5 { break }
                continue
            }
            empties = 0
            for c in out.prefix(got) {
                let at = v.got[Int(c.userData)]
                v.check(c, fd: streams[Int(c.userData)].rx)
                if c.bufferID != ReaderCompletion.noBuffer { held.append((c, at)) }
            }
            // Keep up to 16 completions for a while: their bytes must stay intact while held
            // (a buffer reused too early would show here).
            if held.count > 16 || rng.next(3) == 0 {
                var stale = 0
                for (c, at) in held {
                    let b = c.bytes
                    for i in 0..<b.count where b[i] != pattern(UInt32(c.userData), at &+ UInt64(i)) { stale += 1 }
                }
                #expect(stale == 0)
                let list = held.map { $0.0 }
                let r = try list.withUnsafeBufferPointer { b throws(Errno) in try reader.release(b) }
                #expect(r == held.count)
                held.removeAll()
            }
        }
        let rest = held.map { $0.0 }
        _ = try rest.withUnsafeBufferPointer { b throws(Errno) in try reader.release(b) }
        for i in 0..<n {
            #expect(v.got[i] == total, "stream \(i) of \(kind) on \(backend)")
            #expect(v.bad[i] == 0)
            #expect(v.ends[i] == 1)
            #expect(v.endResult[i] == 0)
        }
        #expect(v.afterEnd == 0)
        let k = reader.counters
        #expect(k.bytes == total * UInt64(n))
        #expect(k.eofs == UInt64(n))
        #expect(k.errors == 0)
        #expect(k.buffersHeld == 0)
        #expect(k.polls > 0 && k.syscalls > 0)
        for st in streams { try reader.remove(fd: st.rx); close(st.rx) }
        #expect(reader.counters.fds == 0)
    }

    /// A consumer that keeps every buffer: the poll fails with ENOBUFS (and keeps failing),
    /// nothing is lost, and the streams resume once the buffers come back.
    @Test(arguments: backends)
    func enobufsThenResumeLosesNothing(_ backend: ReaderBackend) throws {
        let lo = Loopback()
        let reader = try Reader(options(backend, count: 8, size: 256))
        defer { reader.destroy() }
        let n = 4
        let total = 48 * 1024   // fits in the socket buffers
        var streams: [Stream] = []
        for i in 0..<n {
            let st = lo.pair()
            streams.append(st)
            try reader.add(fd: st.rx, userData: UInt64(i))
            let bytes = (0..<total).map { pattern(UInt32(i), UInt64($0)) }
            let w = bytes.withUnsafeBytes { write(st.tx, $0.baseAddress, total) }
            #expect(w == total)
            close(st.tx)
        }
        var v = Verifier(n)
        let out = UnsafeMutableBufferPointer<ReaderCompletion>.allocate(capacity: 8)
        defer { out.deallocate() }
        var held: [ReaderCompletion] = []
        var stalls = 0
        var rounds = 0
        var empties = 0
        while v.ends.reduce(0, +) < n && rounds < 100_000 {
            rounds += 1
            let got: Int
            do {
                got = try reader.poll(into: out, minComplete: 1, timeoutNs: 1_000_000_000)
            } catch {
                #expect(error.code == ENOBUFS)
                if error.code != ENOBUFS { break }
                stalls += 1
                #expect(held.count == 8)
                #expect(reader.counters.buffersHeld == 8)
                // Still stuck on a second poll; nothing handed out meanwhile.
                #expect(errnoOf { () throws(Errno) in try reader.poll(into: out, minComplete: 1, timeoutNs: 1_000_000) } == ENOBUFS)
                let r = try held.withUnsafeBufferPointer { b throws(Errno) in try reader.release(b) }
                #expect(r == 8)
                // The same ids again: no longer held.
                #expect(errnoOf { () throws(Errno) in try held.withUnsafeBufferPointer { b throws(Errno) in try reader.release(UnsafeBufferPointer(rebasing: b.prefix(1))) } } == EINVAL)
                held.removeAll()
                continue
            }
            // A poll may end early with 0 (the library's own wake-ups, see alphacore_reader_poll(3)):
            // five empty polls of 1 s in a row mean a stall.
            if got == 0 {
                empties += 1
                #expect(empties < 5, "five polls in a row returned nothing")
                if empties >= 5 { break }
                continue
            }
            empties = 0
            for c in out.prefix(got) {
                v.check(c, fd: streams[Int(c.userData)].rx)
                if c.bufferID != ReaderCompletion.noBuffer { held.append(c) }
            }
        }
        #expect(stalls > 0, "the consumer held every buffer but no poll said ENOBUFS")
        #expect(reader.counters.enobufs > 0)
        for i in 0..<n {
            #expect(v.got[i] == UInt64(total))
            #expect(v.bad[i] == 0)
            #expect(v.ends[i] == 1 && v.endResult[i] == 0)
            close(streams[i].rx)
        }
        #expect(v.afterEnd == 0)
        _ = try held.withUnsafeBufferPointer { b throws(Errno) in try reader.release(b) }
    }

    /// A peer that resets: the stream's bytes before the reset are intact, then one
    /// completion with a negative errno (or the end) and no more.
    @Test(arguments: backends)
    func resetEndsOneStreamOnly(_ backend: ReaderBackend) throws {
        let lo = Loopback()
        let reader = try Reader(options(backend))
        defer { reader.destroy() }
        let a = lo.pair(), b = lo.pair()
        try reader.add(fd: a.rx, userData: 0)
        try reader.add(fd: b.rx, userData: 1)
        var rng = Rng(s: 99)
        let sentB = feed(b.tx, stream: 1, from: 0, upTo: 5000, rng: &rng)
        #expect(sentB == 5000)
        // Reset a: SO_LINGER 0 then close (after a's unread data, RST discards it at the peer).
        var l = linger(l_onoff: 1, l_linger: 0)
        setsockopt(a.tx, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
        close(a.tx)
        var v = Verifier(2)
        let out = UnsafeMutableBufferPointer<ReaderCompletion>.allocate(capacity: 16)
        defer { out.deallocate() }
        var rounds = 0
        var empties = 0
        while (v.ends[0] == 0 || v.got[1] < 5000) && rounds < 1000 {
            rounds += 1
            let got = try reader.poll(into: out, minComplete: 1, timeoutNs: 1_000_000_000)
            // A poll may end early with 0 (the library's own wake-ups, see alphacore_reader_poll(3)):
            // five empty polls of 1 s in a row mean a stall.
            if got == 0 {
                empties += 1
                #expect(empties < 5, "five polls in a row returned nothing")
                if empties >= 5 { break }
                continue
            }
            empties = 0
            for c in out.prefix(got) { v.check(c, fd: c.userData == 0 ? a.rx : b.rx) }
            _ = try reader.release(UnsafeBufferPointer(rebasing: out.prefix(got)))
        }
        #expect(v.ends[0] == 1)
        #expect(v.endResult[0] == -ECONNRESET || v.endResult[0] == 0)
        #expect(v.got[1] == 5000 && v.bad[1] == 0 && v.ends[1] == 0)
        // b keeps working after a's reset.
        let more = feed(b.tx, stream: 1, from: 5000, upTo: 9000, rng: &rng)
        #expect(more == 9000)
        close(b.tx)
        rounds = 0
        while v.ends[1] == 0 && rounds < 1000 {
            rounds += 1
            let got = try reader.poll(into: out, minComplete: 1, timeoutNs: 1_000_000_000)
            if got == 0 { continue }   // an early 0 (see alphacore_reader_poll(3)); rounds bound the loop
            for c in out.prefix(got) { v.check(c, fd: c.userData == 0 ? a.rx : b.rx) }
            _ = try reader.release(UnsafeBufferPointer(rebasing: out.prefix(got)))
        }
        #expect(v.got[1] == 9000 && v.bad[1] == 0 && v.ends[1] == 1 && v.endResult[1] == 0)
        #expect(v.afterEnd == 0)
        close(a.rx); close(b.rx)
    }

    /// Remove while data flows (nothing more from that fd), add it again under a new user
    /// data: the new completions carry the new user data and the bytes that follow.
    @Test(arguments: backends)
    func removeAndAddAgain(_ backend: ReaderBackend) throws {
        let lo = Loopback()
        let reader = try Reader(options(backend))
        defer { reader.destroy() }
        let st = lo.pair()
        try reader.add(fd: st.rx, userData: 5)
        let out = UnsafeMutableBufferPointer<ReaderCompletion>.allocate(capacity: 16)
        defer { out.deallocate() }
        var first = [UInt8](repeating: 0xA1, count: 1000)
        #expect(write(st.tx, &first, 1000) == 1000)
        var seen = 0
        for _ in 0..<100 where seen < 1000 {
            let got = try reader.poll(into: out, minComplete: 1, timeoutNs: 1_000_000_000)
            for c in out.prefix(got) {
                #expect(c.userData == 5)
                #expect(c.bytes.allSatisfy { $0 == 0xA1 })
                seen += c.bytes.count
            }
            _ = try reader.release(UnsafeBufferPointer(rebasing: out.prefix(got)))
        }
        #expect(seen == 1000)
        try reader.remove(fd: st.rx)
        #expect(errnoOf { () throws(Errno) in try reader.remove(fd: st.rx) } == ENOENT)
        #expect(try reader.poll(into: out, minComplete: 1, timeoutNs: 5_000_000) == 0)
        // Written while removed: nothing comes out, it stays in the socket and is read after the add.
        var second = [UInt8](repeating: 0xB2, count: 3000)
        #expect(write(st.tx, &second, 3000) == 3000)
        #expect(try reader.poll(into: out, minComplete: 1, timeoutNs: 20_000_000) == 0)
        try reader.add(fd: st.rx, userData: 6)
        seen = 0
        for _ in 0..<100 where seen < 3000 {
            let got = try reader.poll(into: out, minComplete: 1, timeoutNs: 1_000_000_000)
            for c in out.prefix(got) {
                #expect(c.userData == 6)
                #expect(c.result > 0 && c.bytes.allSatisfy { $0 == 0xB2 })
                seen += c.bytes.count
            }
            _ = try reader.release(UnsafeBufferPointer(rebasing: out.prefix(got)))
        }
        #expect(seen == 3000)
        close(st.tx); close(st.rx)
    }

    /// io_uring on Linux 6.12+: small reads share a buffer (incremental consumption). Pieces of
    /// one buffer stay intact while the kernel fills the rest of it and while other pieces are
    /// given back; the buffer is reused only after the last piece is released.
    @Test func incrementalBuffersSharedAndIntact() throws {
        let lo = Loopback()
        let reader = try Reader(options(.ioURing, count: 8, size: 4096))
        defer { reader.destroy() }
        try #require(reader.details.reason.contains("IOU_PBUF_RING_INC"), "incremental buffers are not in use")
        let n = 6
        var streams: [Stream] = []
        for i in 0..<n {
            let st = lo.pair()
            streams.append(st)
            try reader.add(fd: st.rx, userData: UInt64(i))
        }
        var sent = [UInt64](repeating: 0, count: n)
        var v = Verifier(n)
        var held: [(ReaderCompletion, UInt64)] = []
        let out = UnsafeMutableBufferPointer<ReaderCompletion>.allocate(capacity: 64)
        defer { out.deallocate() }
        var shared = 0
        var rng = Rng(s: 42)
        for round in 0..<400 {
            for i in 0..<n {   // 1-200 bytes per stream and round: many reads per 4 KiB buffer
                let len = UInt64(1 + rng.next(200))
                let bytes = (0..<len).map { pattern(UInt32(i), sent[i] + $0) }
                #expect(bytes.withUnsafeBytes { write(streams[i].tx, $0.baseAddress, Int(len)) } == Int(len))
                sent[i] += len
            }
            let got: Int
            do {
                got = try reader.poll(into: out, minComplete: 1, timeoutNs: 1_000_000_000)
            } catch {
                // Every buffer has a held piece: give everything back and go on.
                #expect(error.code == ENOBUFS)
                let all = held.map { $0.0 }
                _ = try all.withUnsafeBufferPointer { b throws(Errno) in try reader.release(b) }
                held.removeAll()
                continue
            }
            for c in out.prefix(got) {
                let at = v.got[Int(c.userData)]
                v.check(c, fd: streams[Int(c.userData)].rx)
                if held.contains(where: { $0.0.bufferID == c.bufferID }) { shared += 1 }
                held.append((c, at))
            }
            // Give back a random half now and then (pieces of a buffer go back at different times).
            if round % 3 == 2 {
                var stale = 0
                for (c, at) in held {
                    let b = c.bytes
                    for k in 0..<b.count where b[k] != pattern(UInt32(c.userData), at &+ UInt64(k)) { stale += 1 }
                }
                #expect(stale == 0, "a held piece changed while its buffer was shared")
                var keep: [(ReaderCompletion, UInt64)] = []
                var give: [ReaderCompletion] = []
                for h in held { if rng.next(2) == 0 { give.append(h.0) } else { keep.append(h) } }
                #expect(try give.withUnsafeBufferPointer { b throws(Errno) in try reader.release(b) } == give.count)
                held = keep
            }
        }
        #expect(shared > 0, "no two completions shared a buffer")
        let rest = held.map { $0.0 }
        _ = try rest.withUnsafeBufferPointer { b throws(Errno) in try reader.release(b) }
        #expect(reader.counters.buffersHeld == 0)
        for i in 0..<n {
            #expect(v.got[i] <= sent[i])   // the rest is still in flight
            #expect(v.bad[i] == 0)
        }
        // Drain what is left: every byte, in order.
        for st in streams { close(st.tx) }
        var rounds = 0
        while v.ends.reduce(0, +) < n && rounds < 10_000 {
            rounds += 1
            let got = try reader.poll(into: out, minComplete: 1, timeoutNs: 1_000_000_000)
            if got == 0 { break }
            for c in out.prefix(got) { v.check(c, fd: streams[Int(c.userData)].rx) }
            _ = try reader.release(UnsafeBufferPointer(rebasing: out.prefix(got)))
        }
        for i in 0..<n {
            #expect(v.got[i] == sent[i] && v.bad[i] == 0 && v.ends[i] == 1)
            close(streams[i].rx)
        }
    }

    /// poll_copy: the bytes land in the caller's buffer, no buffer stays held.
    @Test(arguments: backends)
    func pollCopyHoldsNothing(_ backend: ReaderBackend) throws {
        let lo = Loopback()
        let reader = try Reader(options(backend, count: 16, size: 512))
        defer { reader.destroy() }
        let st = lo.pair()
        try reader.add(fd: st.rx, userData: 0)
        var rng = Rng(s: 7)
        let total: UInt64 = 20_000
        #expect(feed(st.tx, stream: 0, from: 0, upTo: total, rng: &rng) == total)
        close(st.tx)
        let out = UnsafeMutableBufferPointer<ReaderCompletion>.allocate(capacity: 8)
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: 8 * 512, alignment: 64)
        defer { out.deallocate(); copy.deallocate() }
        var v = Verifier(1)
        for _ in 0..<1000 where v.ends[0] == 0 {
            let got = try reader.pollCopy(into: out, buffer: copy, minComplete: 1, timeoutNs: 1_000_000_000)
            if got == 0 { break }
            for c in out.prefix(got) {
                #expect(c.bufferID == ReaderCompletion.noBuffer)
                if c.result > 0, let d = c.data {
                    #expect(d >= UnsafeRawPointer(copy.baseAddress!) && d < UnsafeRawPointer(copy.baseAddress! + copy.count))
                }
                v.check(c, fd: st.rx)
            }
            #expect(reader.counters.buffersHeld == 0)
        }
        #expect(v.got[0] == total && v.bad[0] == 0 && v.ends[0] == 1)
        // A copy buffer smaller than one reader buffer.
        let small = UnsafeMutableRawBufferPointer.allocate(byteCount: 100, alignment: 8)
        defer { small.deallocate() }
        #expect(errnoOf { () throws(Errno) in try reader.pollCopy(into: out, buffer: small, minComplete: 0, timeoutNs: 0) } == EINVAL)
        close(st.rx)
    }

    /// An idle poll times out with 0 (not an error); min_complete 0 never waits.
    @Test(arguments: backends)
    func timeoutIsZeroNotAnError(_ backend: ReaderBackend) throws {
        let lo = Loopback()
        let reader = try Reader(options(backend))
        defer { reader.destroy() }
        let st = lo.pair()
        try reader.add(fd: st.rx, userData: 0)
        let out = UnsafeMutableBufferPointer<ReaderCompletion>.allocate(capacity: 4)
        defer { out.deallocate() }
        #expect(try reader.poll(into: out, minComplete: 1, timeoutNs: 2_000_000) == 0)
        #expect(try reader.poll(into: out, minComplete: 0, timeoutNs: -1) == 0)
        #expect(try reader.poll(into: out, minComplete: 4, minWaitNs: 1_000_000, timeoutNs: 0) == 0)
        close(st.tx); close(st.rx)
    }
}

// MARK: - Framing

/// Message `seq` of stream `s`: a payload of 1...maxPayload bytes whose first 4 bytes are the
/// sequence number and whose last byte is a checksum of the rest.
private func payload(_ s: Int, _ seq: UInt32, _ size: Int) -> [UInt8] {
    var p = [UInt8](repeating: 0, count: size)
    withUnsafeBytes(of: seq.littleEndian) { for i in 0..<min(4, size) { p[i] = $0[i] } }
    var sum: UInt8 = 0
    for i in 0..<size - 1 {
        if i >= 4 { p[i] = pattern(UInt32(s), UInt64(seq) &* 131 &+ UInt64(i)) }
        sum = sum &+ p[i]
    }
    p[size - 1] = sum
    return p
}

/// Checks the whole messages of one completion; returns how many there were (-1 if broken).
private func checkMessages(_ bytes: UnsafeRawBufferPointer, framing: ReaderFraming, fixed: Int, stream s: Int, next: inout UInt32) -> Int {
    var p = 0, count = 0
    while p < bytes.count {
        let len: Int
        switch framing {
        case .fixed: len = fixed
        case .u16le: len = Int(UInt16(bytes[p]) | UInt16(bytes[p + 1]) << 8); p += 2
        case .u16be: len = Int(UInt16(bytes[p]) << 8 | UInt16(bytes[p + 1])); p += 2
        case .u32le: len = Int(UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24); p += 4
        case .u32be: len = Int(UInt32(bytes[p]) << 24 | UInt32(bytes[p + 1]) << 16 | UInt32(bytes[p + 2]) << 8 | UInt32(bytes[p + 3])); p += 4
        case .none: return -1
        }
        if len < 5 || p + len > bytes.count { return -1 }
        let m = UnsafeRawBufferPointer(rebasing: bytes[p..<p + len])
        if payload(s, next, len) != Array(m) { return -1 }
        next &+= 1
        p += len
        count += 1
    }
    return count
}

private func frame(_ framing: ReaderFraming, _ body: [UInt8]) -> [UInt8] {
    let n = body.count
    switch framing {
    case .none, .fixed: return body
    case .u16le: return [UInt8(n & 0xFF), UInt8(n >> 8)] + body
    case .u16be: return [UInt8(n >> 8), UInt8(n & 0xFF)] + body
    case .u32le: return [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8(n >> 24)] + body
    case .u32be: return [UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)] + body
    }
}

private let framings: [ReaderFraming] = [.fixed, .u16le, .u16be, .u32le, .u32be]

@Suite struct ReaderFramingTests {
    /// Messages written in random cuts (so that many straddle reads): every completion holds
    /// whole messages, in sequence, checksums intact, and some were put back together.
    @Test(arguments: backends, framings)
    func wholeMessagesInSequence(_ backend: ReaderBackend, _ framing: ReaderFraming) throws {
        let lo = Loopback()
        var o = options(backend, count: 64, size: 256)
        o.framing = framing
        let fixed = 37
        if framing == .fixed { o.frameSize = UInt32(fixed) }
        let reader = try Reader(o)
        defer { reader.destroy() }
        let n = 3, perStream: UInt32 = 800
        var streams: [Stream] = []
        var wire: [[UInt8]] = []
        var rng = Rng(s: 0xF00D &+ UInt64(framing.rawValue))
        for i in 0..<n {
            let st = makeStream(i == 2 ? .pipe : .tcp, lo)
            streams.append(st)
            try reader.add(fd: st.rx, userData: UInt64(i))
            var w: [UInt8] = []
            for seq in 0..<perStream {
                let size = framing == .fixed ? fixed : 5 + rng.next(240 - framing.prefixBytes)
                w += frame(framing, payload(i, seq, size))
            }
            wire.append(w)
        }
        var sent = [Int](repeating: 0, count: n)
        var next = [UInt32](repeating: 0, count: n)
        var ends = [Int](repeating: 0, count: n)
        var broken = 0
        let out = UnsafeMutableBufferPointer<ReaderCompletion>.allocate(capacity: 16)
        defer { out.deallocate() }
        var rounds = 0
        while ends.reduce(0, +) < n && rounds < 100_000 {
            rounds += 1
            for i in 0..<n where sent[i] < wire[i].count {
                // A small random cut, often inside a message or its prefix.
                let cut = min(1 + rng.next(rng.next(4) == 0 ? 600 : 90), wire[i].count - sent[i])
                let w = wire[i].withUnsafeBytes { write(streams[i].tx, $0.baseAddress! + sent[i], cut) }
                if w > 0 { sent[i] += w }
                if sent[i] == wire[i].count { close(streams[i].tx) }
            }
            // A read that completes no message hands out nothing: short waits, bounded rounds.
            let got = try reader.poll(into: out, minComplete: 1, timeoutNs: 2_000_000)
            for c in out.prefix(got) {
                let s = Int(c.userData)
                if c.result <= 0 { ends[s] += 1; #expect(c.result == 0); continue }
                if checkMessages(c.bytes, framing: framing, fixed: fixed, stream: s, next: &next[s]) < 1 { broken += 1 }
            }
            _ = try reader.release(UnsafeBufferPointer(rebasing: out.prefix(got)))
        }
        #expect(broken == 0)
        #expect(next == [UInt32](repeating: perStream, count: n))
        #expect(ends == [1, 1, 1])
        let k = reader.counters
        #expect(k.messages == UInt64(perStream) * UInt64(n))
        #expect(k.reassembled > 0, "random cuts straddled no read")
        #expect(k.buffersHeld == 0)
        for st in streams { close(st.rx) }
    }

    /// The end inside a message is -EPROTO; a length larger than a buffer is -EMSGSIZE.
    @Test(arguments: backends)
    func endInsideMessageAndOversize(_ backend: ReaderBackend) throws {
        let lo = Loopback()
        var o = options(backend, count: 16, size: 256)
        o.framing = .u16be
        let reader = try Reader(o)
        defer { reader.destroy() }
        let a = lo.pair(), b = lo.pair()
        try reader.add(fd: a.rx, userData: 0)
        try reader.add(fd: b.rx, userData: 1)
        var wa = frame(.u16be, payload(0, 0, 50)) + Array(frame(.u16be, payload(0, 1, 60)).prefix(30))
        #expect(write(a.tx, &wa, wa.count) == wa.count)
        close(a.tx)
        var wb = frame(.u16be, payload(1, 0, 20)) + [0x10, 0x00]   // 4096 > 256
        #expect(write(b.tx, &wb, wb.count) == wb.count)
        let out = UnsafeMutableBufferPointer<ReaderCompletion>.allocate(capacity: 8)
        defer { out.deallocate() }
        var next: [UInt32] = [0, 0]
        var end: [Int32?] = [nil, nil]
        // A poll may return 0 before its timeout (alphacore_reader_poll(3)): here the final
        // completion of b's cancelled read, or a's hang-up seen before its FIN is readable, can
        // end a wait with nothing to hand out while a's end is still on its way. So a 0 is no
        // end of the test; a deadline (5 s, well beyond any delivery) bounds the loop.
        let deadline = Clock.nowNanoseconds() + 5_000_000_000
        for _ in 0..<1000 where (end[0] == nil || end[1] == nil) && Clock.nowNanoseconds() < deadline {
            let got = try reader.poll(into: out, minComplete: 1, timeoutNs: 1_000_000_000)
            for c in out.prefix(got) {
                let s = Int(c.userData)
                if c.result <= 0 { #expect(end[s] == nil); end[s] = c.result; continue }
                #expect(checkMessages(c.bytes, framing: .u16be, fixed: 0, stream: s, next: &next[s]) >= 1)
            }
            _ = try reader.release(UnsafeBufferPointer(rebasing: out.prefix(got)))
        }
        #expect(next == [1, 1])
        #expect(end[0] == -EPROTO)
        #expect(end[1] == -EMSGSIZE)
        close(a.rx); close(b.rx); close(b.tx)
    }
}

// MARK: - Bad arguments

@Suite struct ReaderArgumentTests {
    @Test func badOptionsThrowEINVAL() {
        func code(_ edit: (inout ReaderOptions) -> Void) -> Int32? {
            var o = ReaderOptions()
            edit(&o)
            return errnoOf { () throws(Errno) in try Reader(o) }
        }
        #expect(code { $0.capacity = 0 } == EINVAL)
        #expect(code { $0.capacity = 70_000 } == EINVAL)
        #expect(code { $0.bufferSize = 100 } == EINVAL)
        #expect(code { $0.bufferSize = 32 } == EINVAL)
        #expect(code { $0.bufferSize = 2 << 20 } == EINVAL)
        #expect(code { $0.bufferCount = 3 } == EINVAL)
        #expect(code { $0.bufferCount = 1 } == EINVAL)
        #expect(code { $0.bufferCount = 65536 } == EINVAL)
        #expect(code { $0.frameSize = 8 } == EINVAL)
        #expect(code { $0.framing = .fixed } == EINVAL)
        #expect(code { $0.framing = .fixed; $0.frameSize = 8192 } == EINVAL)
        #expect(code { $0.flags = ReaderFlags(rawValue: 1 << 20) } == EINVAL)
        #expect(code { $0.flags = .sqpoll; $0.sqpollCPU = -5 } == EINVAL)
        #expect(Detail.current.contains("sqpoll_cpu"))
        // Profiles: a spin budget only with the spin profile and at most 1 s; BUSY_POLL is the
        // spin profile itself, so it takes no other profile.
        #expect(code { $0.profile = .spin; $0.spinMicros = ReaderProfile.maxSpinMicros + 1 } == EINVAL)
        #expect(Detail.current.contains("spin_us"))
        #expect(code { $0.profile = .latency; $0.spinMicros = 10 } == EINVAL)
        #expect(code { $0.profile = .latency; $0.flags = .busyPoll } == EINVAL)
        #expect(code { $0.backend = .epoll; $0.profile = .spin; $0.spinMicros = ReaderProfile.maxSpinMicros } == nil)
    }

    @Test(arguments: backends)
    func profilesAreReported(_ backend: ReaderBackend) throws {
        for (profile, spin, want) in [(ReaderProfile.throughput, UInt32(0), UInt32(0)), (.latency, 0, 0), (.spin, 0, 100), (.spin, 7, 7)] {
            var o = options(backend, count: 16, size: 4096)
            o.profile = profile
            o.spinMicros = spin
            let r = try Reader(o)
            #expect(r.details.profile == profile)
            #expect(r.details.spinMicros == want)
            r.destroy()
        }
        var o = options(backend, count: 16, size: 4096)
        o.flags = .busyPoll
        let r = try Reader(o)
        #expect(r.details.profile == .spin)
        #expect(r.details.spinMicros == ReaderProfile.spinUntilTimeout)
        r.destroy()
    }

    @Test(arguments: backends)
    func badCallsThrowTheirErrno(_ backend: ReaderBackend) throws {
        let lo = Loopback()
        let reader = try Reader(options(backend, capacity: 2))
        defer { reader.destroy() }
        // Fds.
        #expect(errnoOf { () throws(Errno) in try reader.add(fd: -1, userData: 0) } == EBADF)
        let dead = fdThatCannotBeOpen()   // not a just-closed fd: a parallel test may reuse its number
        #expect(fcntl(dead, F_GETFD) == -1 && errno == EBADF)
        #expect(errnoOf { () throws(Errno) in try reader.add(fd: dead, userData: 0) } == EBADF)
        let file = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
        let dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        #expect(file >= 0 && dir >= 0)
        #expect(errnoOf { () throws(Errno) in try reader.add(fd: file, userData: 0) } == EINVAL)
        #expect(errnoOf { () throws(Errno) in try reader.add(fd: dir, userData: 0) } == EINVAL)
        close(file); close(dir)
        let a = lo.pair(), b = lo.pair(), c = lo.pair()
        try reader.add(fd: a.rx, userData: 0)
        #expect(errnoOf { () throws(Errno) in try reader.add(fd: a.rx, userData: 1) } == EEXIST)
        try reader.add(fd: b.rx, userData: 1)
        #expect(errnoOf { () throws(Errno) in try reader.add(fd: c.rx, userData: 2) } == ENOSPC)
        #expect(errnoOf { () throws(Errno) in try reader.remove(fd: c.rx) } == ENOENT)
        #expect(errnoOf { () throws(Errno) in try reader.remove(fd: -3) } == ENOENT)
        #expect(reader.counters.fds == 2)
        // Polls.
        let out = UnsafeMutableBufferPointer<ReaderCompletion>.allocate(capacity: 4)
        defer { out.deallocate() }
        let empty = UnsafeMutableBufferPointer<ReaderCompletion>(start: nil, count: 0)
        #expect(errnoOf { () throws(Errno) in try reader.poll(into: empty, minComplete: 0, timeoutNs: 0) } == EINVAL)
        #expect(errnoOf { () throws(Errno) in try reader.poll(into: out, minComplete: 5, timeoutNs: 0) } == EINVAL)
        #expect(errnoOf { () throws(Errno) in try reader.poll(into: out, minComplete: 1, minWaitNs: -1, timeoutNs: 0) } == EINVAL)
        #expect(errnoOf { () throws(Errno) in try reader.poll(into: out, minComplete: 1, timeoutNs: -2) } == EINVAL)
        #expect(errnoOf { () throws(Errno) in try reader.poll(into: out, minComplete: 1, timeoutNs: Int64.min) } == EINVAL)
        // Releases of ids the caller does not hold.
        let bogus = [ReaderCompletion(userData: 0, data: nil, result: 1, bufferID: 100_000, fd: a.rx, flags: 0),
                     ReaderCompletion(userData: 0, data: nil, result: 1, bufferID: 3, fd: a.rx, flags: 0)]
        #expect(errnoOf { () throws(Errno) in try bogus.withUnsafeBufferPointer { q throws(Errno) in try reader.release(q) } } == EINVAL)
        let none = [ReaderCompletion(userData: 0, data: nil, result: 0, bufferID: ReaderCompletion.noBuffer, fd: a.rx, flags: 0)]
        #expect(try none.withUnsafeBufferPointer { q throws(Errno) in try reader.release(q) } == 0)
        // Still fully working after all that: one byte through.
        var x: UInt8 = 0x42
        #expect(write(a.tx, &x, 1) == 1)
        let got = try reader.poll(into: out, minComplete: 1, timeoutNs: 1_000_000_000)
        #expect(got == 1 && out[0].result == 1 && out[0].bytes.first == 0x42 && out[0].userData == 0)
        #expect(try reader.release(UnsafeBufferPointer(rebasing: out.prefix(got))) == got)
        // Framing readers need room for three completions.
        var o = options(backend)
        o.framing = .u32le
        let framed = try Reader(o)
        defer { framed.destroy() }
        let two = UnsafeMutableBufferPointer<ReaderCompletion>(rebasing: out[0..<2])
        #expect(errnoOf { () throws(Errno) in try framed.poll(into: two, minComplete: 1, timeoutNs: 0) } == EINVAL)
        for s in [a, b, c] { close(s.rx); close(s.tx) }
    }

    /// Requesting epoll is reported as such; auto says why it chose what it chose.
    @Test func detailsAreHonest() throws {
        let e = try Reader(options(.epoll))
        defer { e.destroy() }
        #expect(e.details.backend == .epoll && e.details.requested == .epoll)
        #expect(e.details.reason == "epoll as requested")
        #expect(e.details.setupFlags == 0 && e.details.sqEntries == 0)
        let a = try Reader(options(.auto))
        defer { a.destroy() }
        #expect(a.details.requested == .auto)
        if a.details.backend == .ioURing {
            #expect(a.details.uringErrno == 0 && a.details.uringStage == "")
            #expect(a.details.sqEntries > 0 && a.details.cqEntries > 0)
            // Linux 6.12+ (this machine runs 6.18): small reads share buffers, and it says so.
            #expect(a.details.reason.contains("IOU_PBUF_RING_INC"))
        } else {
            #expect(a.details.uringErrno != 0 && !a.details.uringStage.isEmpty)
        }
        #expect(!a.details.reason.isEmpty)
        #expect(a.details.bufferCount == 256 && a.details.bufferSize == 4096 && a.details.capacity == 64)
    }
}
