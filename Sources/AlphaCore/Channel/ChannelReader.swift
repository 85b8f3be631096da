import CAlphaCoreShims
import Glibc
import Synchronization

/// One message handed out by poll (the C struct alphacore_channel_msg, same layout).
public struct ChannelMessage {
    public var data: UnsafeRawPointer?
    public var length: UInt32
    public var flags: UInt32
    public var seq: UInt64
    public var time: UInt64
    public init(data: UnsafeRawPointer?, length: UInt32, flags: UInt32, seq: UInt64, time: UInt64) {
        self.data = data
        self.length = length
        self.flags = flags
        self.seq = seq
        self.time = time
    }
}

/// Reader options (the C struct alphacore_channel_reader_opts).
public struct ChannelReaderOptions: Sendable {
    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Record publish-to-poll latency (ns) in a histogram (`hist`).
        public static let histogram = Flags(rawValue: 1 << 0)
        /// Start at the oldest intact message instead of the next one published.
        public static let fromOldest = Flags(rawValue: 1 << 1)
        /// Backpressure channels: do not register (the producer does not wait for this reader).
        public static let observer = Flags(rawValue: 1 << 2)
        /// wait() sleeps on the futex after spinning (otherwise it only spins).
        public static let sleep = Flags(rawValue: 1 << 3)
        public static let all: Flags = [.histogram, .fromOldest, .observer, .sleep]
    }
    public var flags: Flags
    public var spinNs: UInt64
    public init(flags: Flags = [], spinNs: UInt64 = 50_000) {
        self.flags = flags
        self.spinNs = spinNs
    }
}

/// A consumer of a channel: any process, any number of them. MT-Unsafe per reader.
public struct ChannelReader {
    public private(set) var region: Region
    @usableFromInline let ring: ChannelRing
    public let geometry: ChannelGeometry
    /// All ones, or 0 on a NO_TIME channel (whose records' time words are not written).
    @usableFromInline let timeMask: UInt64
    @usableFromInline var position: UInt64 = 0
    /// The seq of the next message; `joining` = take the first one seen.
    @usableFromInline var expected: UInt64 = ChannelReader.joining
    /// No record carries this seq (seqs start at 1 and are 64-bit).
    @usableFromInline static let joining: UInt64 = .max
    @usableFromInline var batchStart: UInt64 = 0
    @usableFromInline var idle: UInt32 = 0
    @usableFromInline var slot: Int = -1
    @usableFromInline var released: UInt64 = 0
    public private(set) var hist: Histogram? = nil
    public internal(set) var epoch: UInt64 = 0
    let options: ChannelReaderOptions
    public internal(set) var stats = ChannelReaderStats()

    init(region: Region, base: UnsafeMutableRawPointer, geometry g: ChannelGeometry, options: ChannelReaderOptions) {
        self.region = region
        ring = ChannelRing(base: base, geometry: g)
        geometry = g
        timeMask = g.flags.contains(.noTime) ? 0 : ~0
        self.options = options
    }

    /// Opens the named channel. EPROTO: not a channel or another layout version; ENOENT;
    /// ENOSPC: backpressure channel with every consumer slot held by a live reader.
    public static func open(name: String, options: ChannelReaderOptions) throws(Errno) -> ChannelReader {
        try ChannelName.validate(name)
        if options.flags.rawValue & ~ChannelReaderOptions.Flags.all.rawValue != 0 {
            throw Errno.fail(EINVAL, "unknown reader flags 0x\(String(options.flags.rawValue, radix: 16))")
        }
        let region = try SharedRegion.open(name: name, options: MemOptions())
        do throws(Errno) {
            guard let base = region.address else { throw Errno.fail(Errno.internal, "the channel region has no address") }
            let g = try ChannelGeometry.read(base, mappedSize: region.size)
            var r = ChannelReader(region: region, base: base, geometry: g, options: options)
            try r.start()
            return r
        } catch {
            try? region.free()
            throw error
        }
    }

    /// Places the reader at the producer's tail, with the seq of the record there.
    mutating func joinAtTail() {
        position = ring.view.load(ChannelLayout.oTail) & ~31
        expected = ChannelReader.joining
        // The producer stores seq, tail, seq-after; equal seq-after (read first) and seq (read
        // last) pin the tail read between them.
        for _ in 0..<1000 {
            let after = ring.view.load(ChannelLayout.oSeqAfter)
            let tail = ring.view.load(ChannelLayout.oTail)
            if ring.view.load(ChannelLayout.oSeq) == after {
                position = tail & ~31
                expected = after &+ 1
                break
            }
        }
    }

    mutating func start() throws(Errno) {
        epoch = ring.view.load(ChannelLayout.oEpoch)
        joinAtTail()
        if options.flags.contains(.fromOldest) {
            let (tailPosition, tailSeq) = (position, expected)
            if let seq = resync(from: ring.view.load(ChannelLayout.oStartPos) & ~31) {
                expected = seq
            } else {
                (position, expected) = (tailPosition, tailSeq)
            }
        }
        batchStart = position
        if options.flags.contains(.histogram) {
            if geometry.flags.contains(.noTime) {
                throw Errno.fail(EINVAL, "ALPHACORE_CHANNEL_READER_HIST: the channel carries no publish times (created with ALPHACORE_CHANNEL_NO_TIME)")
            }
            hist = try Histogram.create(lowest: 1, highest: 3_600_000_000_000, digits: 3)
        }
        if geometry.flags.contains(.backpressure) && !options.flags.contains(.observer) {
            do throws(Errno) {
                slot = try ChannelSlots.register(ring.view, position: position, epoch: epoch)
            } catch {
                hist?.destroy()
                throw error
            }
            if !options.flags.contains(.fromOldest) {
                // The producer bounds itself by the slots it last scanned: before it saw this
                // one it may go a lap beyond the tail it had then, not beyond. Joining at the
                // tail read after the slot is visible, the reader loses nothing it was held to.
                atomicMemoryFence(ordering: .sequentiallyConsistent)
                joinAtTail()
                batchStart = position
                ring.view.slot(slot).store(ChannelLayout.sPosition, position)
            }
            released = position
        }
    }

    public func close() {
        ChannelSlots.release(ring.view, slot)
        hist?.destroy()
        try? region.free()
    }

    // MARK: the hot path

    /// Hands out up to `max` messages (pointers into the ring), at most `budget` payload bytes.
    /// Returns the count, or -EOVERFLOW (lapped: `stats.lastLost` messages lost; the next
    /// poll resumes at the oldest intact one), -ECONNRESET (a new producer, new epoch),
    /// -EPROTO (a record that fails its checks: scribbled memory).
    public mutating func poll(_ out: UnsafeMutablePointer<ChannelMessage>, _ max: Int, budget: Int = .max) -> Int32 {
        if slot >= 0 && released != position { releaseConsumed() }
        var n = 0
        var bytes = 0
        let first = position
        let firstExpected = expected
        while n < max {
            let off = Int(truncatingIfNeeded: position & ring.mask)
            let h = SharedView(ring.records + off)
            let pos = h.word(ChannelLayout.rPos).pointee.load(ordering: .acquiring)
            let seq = h.word(ChannelLayout.rSeq).pointee.load(ordering: .acquiring)
            if _slowPath(pos != position || seq != expected) {
                if n > 0 { break }
                let rc = pollSlow(pos, seq)
                if rc == 1 { continue }   // state changed (joined, header settled): look again
                return rc
            }
            let len = Int(h.base.load(fromByteOffset: ChannelLayout.rLen, as: UInt32.self))
            let kind = h.base.load(fromByteOffset: ChannelLayout.rKind, as: UInt32.self)
            if _slowPath(kind != ChannelLayout.kindMessage || len > ring.maxMessage || off &+ 32 &+ len > Int(ring.capacity)) {
                if kind == ChannelLayout.kindPadding && off &+ 32 &+ len == Int(ring.capacity) {
                    position &+= ring.capacity &- UInt64(off)
                    continue
                }
                if n > 0 { break }
                // Torn by a producer lapping us right now, or scribbled: the lap check tells.
                if !intact(since: position) { return lapped() }
                return corruptRecord(kind: kind, length: len)
            }
            if bytes &+ len > budget { break }
            bytes &+= len
            out[n] = ChannelMessage(data: h.base + ChannelLayout.recordHeader, length: UInt32(truncatingIfNeeded: len),
                                    flags: 0, seq: seq,
                                    time: h.base.load(fromByteOffset: ChannelLayout.rTime, as: UInt64.self) & timeMask)
            position &+= UInt64(truncatingIfNeeded: ChannelLayout.recordSize(len))
            expected &+= 1
            n &+= 1
        }
        if n == 0 { return 0 }
        if _slowPath(!intact(since: first)) {
            position = first
            expected = firstExpected
            return lapped()
        }
        batchStart = first
        idle = 0
        stats.messages &+= UInt64(truncatingIfNeeded: n)
        if let hist { recordLatency(hist, out, n) }
        return Int32(truncatingIfNeeded: n)
    }

    /// Whether nothing at or after `first` has been overwritten (the lap check).
    @inline(__always)
    func intact(since first: UInt64) -> Bool {
        atomicMemoryFence(ordering: .acquiring)
        let intent = ring.view.word(ChannelLayout.oIntent).pointee.load(ordering: .relaxed)
        return intent <= ring.capacity || first >= intent &- ring.capacity
    }

    /// 0 when every message of the latest poll is still intact, -EOVERFLOW once the producer
    /// has begun overwriting it (zero-copy readers call this after reading, in broadcast).
    public func check() -> Int32 {
        intact(since: batchStart) ? 0 : Errno.fail(EOVERFLOW, "the producer has overwritten messages of the latest poll").negated
    }

    func recordLatency(_ h: Histogram, _ out: UnsafeMutablePointer<ChannelMessage>, _ n: Int) {
        let cyc = geometry.flags.contains(.cycles)
        let now = cyc ? Clock.cycles() : Clock.nowNanoseconds()
        for i in 0..<n {
            let t = out[i].time
            var d = now > t ? now &- t : 0
            if cyc { d = Clock.nanoseconds(fromCycles: d) }
            _ = h.record(Int64(truncatingIfNeeded: Swift.min(d, 3_600_000_000_000)))
        }
    }

    @inline(never)
    mutating func releaseConsumed() {
        ring.view.slot(slot).store(ChannelLayout.sPosition, position)
        released = position
    }
}

/// What a reader has seen (alphacore_channel_reader_info).
public struct ChannelReaderStats: Sendable {
    public var messages: UInt64 = 0
    public var lost: UInt64 = 0
    public var lastLost: UInt64 = 0
    public var overflows: UInt64 = 0
    public var epochChanges: UInt64 = 0
    public var protocolErrors: UInt64 = 0
    public init() {}
}
