import CAlphaCoreShims
import Glibc
import Synchronization

/// The producer side of a channel: one per channel name at a time. MT-Unsafe: one thread
/// claims, commits and publishes. A plain struct the C ABI keeps on the heap (no ARC on the
/// hot path).
public struct ChannelProducer {
    public private(set) var region: Region
    @usableFromInline let view: SharedView
    @usableFromInline let ring: UnsafeMutableRawPointer
    @usableFromInline let mask: UInt64
    @usableFromInline let capacity: UInt64
    @usableFromInline let maxMessage: Int
    @usableFromInline let cycles: Bool
    @usableFromInline var position: UInt64 = 0
    @usableFromInline var seq: UInt64 = 1
    @usableFromInline var claimed: UnsafeMutableRawPointer? = nil
    @usableFromInline var claimedLen: Int = 0
    @usableFromInline var claimedEnd: UInt64 = 0
    /// The producer may write below this position without looking at the consumers.
    @usableFromInline var limit: UInt64 = .max
    /// The intent last published (see ChannelLayout): the producer writes below it freely.
    @usableFromInline var intent: UInt64 = 0
    let flags: ChannelFlags
    public private(set) var epoch: UInt64 = 1
    let waitTimeoutNs: UInt64

    init(region: Region, base: UnsafeMutableRawPointer, geometry g: ChannelGeometry, flags: ChannelFlags, waitTimeoutNs: UInt64) {
        self.region = region
        view = SharedView(base)
        ring = base + ChannelLayout.headerSize
        capacity = UInt64(g.capacity)
        mask = UInt64(g.capacity - 1)
        maxMessage = g.maxMessage
        cycles = g.flags.contains(.cycles)
        self.flags = flags
        self.waitTimeoutNs = waitTimeoutNs
    }

    /// Creates the named channel, or takes over one whose producer has gone (same geometry):
    /// a new epoch starting a full lap beyond everything the old producer wrote.
    public static func create(name: String, geometry g: ChannelGeometry, memory: MemOptions,
                              waitTimeoutNs: UInt64 = 0) throws(Errno) -> ChannelProducer {
        try ChannelName.validate(name)
        try g.validate()
        var made: ChannelProducer? = nil
        do {
            // The header is written before the name appears: a producer that dies while
            // creating leaves no half-made channel that would refuse the next one.
            _ = try SharedRegion.create(name: name, size: g.regionSize, options: memory) { region throws(Errno) in
                var p = try ChannelProducer(region, g, waitTimeoutNs)
                p.initialize(g)
                made = p
            }
        } catch where error.code == EEXIST {
            let region = try SharedRegion.open(name: name, options: memory)
            do throws(Errno) {
                var p = try ChannelProducer(region, g, waitTimeoutNs)
                try p.takeOver(name, g)
                made = p
            } catch {
                try? region.free()
                throw error
            }
        }
        guard var p = made else { throw Errno.fail(Errno.internal, "the channel was not made") }
        if p.flags.contains(.backpressure) { p.limit = p.position &+ p.capacity }
        return p
    }

    init(_ region: Region, _ g: ChannelGeometry, _ waitTimeoutNs: UInt64) throws(Errno) {
        guard let base = region.address else { throw Errno.fail(Errno.internal, "the channel region has no address") }
        self.init(region: region, base: base, geometry: g, flags: g.flags, waitTimeoutNs: waitTimeoutNs)
    }

    mutating func initialize(_ g: ChannelGeometry) {
        g.write(view.base, regionSize: region.size)
        claimOwnership()
        markNext()
        view.store(ChannelLayout.oEpoch, 1)
        view.store32(ChannelLayout.oReady, 1)
    }

    mutating func takeOver(_ name: String, _ g: ChannelGeometry) throws(Errno) {
        let old: ChannelGeometry
        do throws(Errno) { old = try ChannelGeometry.read(view.base, mappedSize: region.size) } catch {
            throw Errno.fail(EEXIST, "'\(name)' exists and is not a channel this producer can take over: \(Detail.current)")
        }
        if old.capacity != g.capacity || old.maxMessage != g.maxMessage
            || old.flags.intersection(.stored).rawValue != g.flags.intersection(.stored).rawValue {
            throw Errno.fail(EEXIST, "channel '\(name)' exists with capacity \(old.capacity), max_msg \(old.maxMessage), flags 0x\(String(old.flags.rawValue, radix: 16)); unlink it to change them")
        }
        let owner = view.word(ChannelLayout.oOwnerPid)
        let oldPid = owner.pointee.load(ordering: .acquiring)
        let closed = view.load32(ChannelLayout.oClosed) != 0
        if !closed && oldPid != 0
            && ProcessIdentity.alive(pid: Int32(truncatingIfNeeded: oldPid), start: view.load(ChannelLayout.oOwnerStart)) {
            throw Errno.fail(EEXIST, "channel '\(name)' has a live producer (pid \(oldPid))")
        }
        guard owner.pointee.compareExchange(expected: oldPid, desired: UInt64(getpid()), ordering: .acquiringAndReleasing).exchanged else {
            throw Errno.fail(EEXIST, "another producer took channel '\(name)' over at the same time")
        }
        // Start more than a full lap beyond anything written: no old header can match a new
        // position, and every old position (at most `written`) fails the lap check at once.
        let written = max(view.load(ChannelLayout.oIntent), view.load(ChannelLayout.oTail))
        let start = (written & ~mask) &+ 2 &* capacity
        position = start
        intent = start
        view.store(ChannelLayout.oIntent, start)
        view.store(ChannelLayout.oTail, start)
        view.store(ChannelLayout.oSeq, 0)
        view.store(ChannelLayout.oSeqAfter, 0)
        view.store(ChannelLayout.oStartPos, start)
        claimOwnership()
        markNext()
        epoch = view.load(ChannelLayout.oEpoch) &+ 1
        view.store(ChannelLayout.oEpoch, epoch)
    }

    mutating func claimOwnership() {
        view.store(ChannelLayout.oOwnerPid, UInt64(getpid()))
        view.store(ChannelLayout.oOwnerStart, ProcessIdentity.selfStart)
        view.store(ChannelLayout.oHeartbeat, Clock.nowNanoseconds())
        view.store32(ChannelLayout.oClosed, 0)
    }

    /// Marks the channel closed (readers see the producer gone; a new producer may take over)
    /// and unmaps it. The name stays.
    public func destroy() {
        view.store32(ChannelLayout.oClosed, 1)
        view.store(ChannelLayout.oOwnerPid, 0)
        if view.load32(ChannelLayout.oSleepers) != 0 { ChannelFutex.wake(view) }
        try? region.free()
    }

    /// Records that the producer is alive while it has nothing to publish.
    public func heartbeat() { view.store(ChannelLayout.oHeartbeat, Clock.nowNanoseconds()) }

    // MARK: the hot path

    /// Reserves room for a message of `len` bytes and returns where to write it. 0, or
    /// -EINVAL (length), -EBUSY (a claim is open), -EAGAIN/-ETIMEDOUT (backpressure).
    public mutating func claim(_ len: Int, _ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> Int32 {
        if _slowPath(len < 0 || len > maxMessage || claimed != nil) { return claimRefused(len) }
        let rec = UInt64(truncatingIfNeeded: ChannelLayout.recordSize(len))
        let off = position & mask
        let pad = off &+ rec > capacity ? capacity &- off : 0
        let end = position &+ pad &+ rec
        if _slowPath(end &+ 32 > limit) {
            let rc = waitForRoom(end)
            if rc != 0 { return rc }
        }
        if _slowPath(end &+ 32 > intent) { publishIntent(end &+ 32) }
        let at = position &+ pad
        let h = SharedView(ring + Int(truncatingIfNeeded: at & mask))
        if pad != 0 {
            // The marker commit left at `position` becomes the padding; the record's header
            // starts as a marker (seq 0) at the start of the ring.
            writePadding(off, pad)
            h.word(ChannelLayout.rSeq).pointee.store(0, ordering: .relaxed)
            h.word(ChannelLayout.rPos).pointee.store(at, ordering: .releasing)
        }
        let payload = h.base + ChannelLayout.recordHeader
        claimed = payload
        claimedLen = len
        claimedEnd = end
        out.pointee = payload
        return 0
    }

    /// Writes the "next record" marker (its own position, seq 0) where the next record goes,
    /// so that a reader waiting there sees "nothing yet" without touching the producer's
    /// line; `intent` covers it first (a lagging reader may still be reading that spot).
    @inline(__always)
    mutating func markNext() {
        if _slowPath(position &+ 32 > intent) { publishIntent(position &+ 32) }
        let h = SharedView(ring + Int(truncatingIfNeeded: position & mask))
        h.word(ChannelLayout.rSeq).pointee.store(0, ordering: .relaxed)
        h.word(ChannelLayout.rPos).pointee.store(position, ordering: .releasing)
    }

    mutating func writePadding(_ off: UInt64, _ pad: UInt64) {
        let h = SharedView(ring + Int(truncatingIfNeeded: off))
        h.word(ChannelLayout.rSeq).pointee.store(0, ordering: .relaxed)
        h.word(ChannelLayout.rPos).pointee.store(position, ordering: .releasing)
        h.base.storeBytes(of: UInt32(truncatingIfNeeded: pad &- 32), toByteOffset: ChannelLayout.rLen, as: UInt32.self)
        h.base.storeBytes(of: ChannelLayout.kindPadding, toByteOffset: ChannelLayout.rKind, as: UInt32.self)
        h.word(ChannelLayout.rSeq).pointee.store(seq, ordering: .releasing)
    }

    /// Publishes the claimed message: its time, then the commit word. 0, or -EINVAL for a
    /// pointer that is not the open claim.
    public mutating func commit(_ ptr: UnsafeRawPointer?) -> Int32 {
        guard let c = claimed, UnsafeRawPointer(c) == ptr else { return commitRefused(ptr) }
        let h = SharedView(c - ChannelLayout.recordHeader)
        let now = cycles ? Clock.cycles() : Clock.nowNanoseconds()
        h.base.storeBytes(of: UInt32(truncatingIfNeeded: claimedLen), toByteOffset: ChannelLayout.rLen, as: UInt32.self)
        h.base.storeBytes(of: ChannelLayout.kindMessage, toByteOffset: ChannelLayout.rKind, as: UInt32.self)
        h.base.storeBytes(of: now, toByteOffset: ChannelLayout.rTime, as: UInt64.self)
        h.word(ChannelLayout.rSeq).pointee.store(seq, ordering: .releasing)
        view.word(ChannelLayout.oSeq).pointee.store(seq, ordering: .releasing)
        view.word(ChannelLayout.oTail).pointee.store(claimedEnd, ordering: .releasing)
        view.word(ChannelLayout.oSeqAfter).pointee.store(seq, ordering: .releasing)
        view.word(ChannelLayout.oLastTime).pointee.store(now, ordering: .relaxed)
        seq &+= 1
        position = claimedEnd
        claimed = nil
        markNext()
        if _slowPath(view.word32(ChannelLayout.oSleepers).pointee.load(ordering: .relaxed) != 0) {
            ChannelFutex.wake(view)
        }
        return 0
    }

    /// claim + copy + commit.
    public mutating func publish(_ msg: UnsafeRawPointer?, _ len: Int) -> Int32 {
        if _slowPath(msg == nil && len != 0) { return nullMessage() }
        var p: UnsafeMutableRawPointer? = nil
        let rc = claim(len, &p)
        if _slowPath(rc != 0) { return rc }
        if let p, let msg { p.copyMemory(from: msg, byteCount: len) }
        return commit(p)
    }

    // MARK: cold paths

    @usableFromInline @inline(never)
    func claimRefused(_ len: Int) -> Int32 {
        if claimed != nil { return Errno.fail(EBUSY, "a claim is open: commit it first").negated }
        return Errno.fail(EINVAL, "message of \(len) bytes: the channel takes 0 to \(maxMessage)").negated
    }

    @usableFromInline @inline(never)
    func commitRefused(_ ptr: UnsafeRawPointer?) -> Int32 {
        if claimed == nil { return Errno.fail(EINVAL, "commit without a claim").negated }
        return Errno.fail(EINVAL, "commit of \(String(describing: ptr)): not the pointer alphacore_channel_claim returned").negated
    }

    @usableFromInline @inline(never)
    func nullMessage() -> Int32 { Errno.fail(EINVAL, "msg is NULL").negated }

    /// Publishes an intent covering `needed`, a step of capacity/16 ahead (in backpressure
    /// mode never beyond what the slowest reader has released), then a release fence: every
    /// store after it is ordered after the intent.
    @usableFromInline @inline(never)
    mutating func publishIntent(_ needed: UInt64) {
        intent = Swift.max(needed, Swift.min(needed &+ (capacity >> 4), limit))
        view.word(ChannelLayout.oIntent).pointee.store(intent, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
    }

    /// Backpressure: waits until every registered live consumer has released `end - capacity`.
    /// Dead consumers are found by pid and start time and their slots freed.
    @usableFromInline @inline(never)
    mutating func waitForRoom(_ end: UInt64) -> Int32 {
        let saved = errno   // the liveness checks make system calls that fail; the caller's errno stays
        defer { errno = saved }
        let started = Clock.nowNanoseconds()
        var spins: UInt64 = 0
        while true {
            let reap = spins & 1023 == 1023 || flags.contains(.nonblock)
            // Our tail before the slots: a reader that registers and then reads the tail sees
            // either this scan honour its slot or a tail at least this position (ChannelReader.start).
            atomicMemoryFence(ordering: .sequentiallyConsistent)
            let low = min(ChannelSlots.minPosition(view, epoch: epoch, reap: reap) ?? position, position)
            limit = low &+ capacity
            if end &+ 32 <= limit { return 0 }
            if flags.contains(.nonblock) {
                return Errno.fail(EAGAIN, "backpressure: the slowest consumer is at \(low), the message needs \(end &- capacity)").negated
            }
            spins &+= 1
            if spins & 1023 == 0 {
                if waitTimeoutNs != 0 && Clock.nowNanoseconds() &- started > waitTimeoutNs {
                    return Errno.fail(ETIMEDOUT, "backpressure: the slowest consumer did not move for \(waitTimeoutNs) ns").negated
                }
                sched_yield()
            } else {
                acshim_cpu_relax()
            }
        }
    }
}

/// Channel names: the shared-region rules (1-200 bytes of [A-Za-z0-9._-], no leading '.'),
/// and no "..".
enum ChannelName {
    static func validate(_ name: String) throws(Errno) {
        if name.utf8.count > 200 { throw Errno.fail(ENAMETOOLONG, "a channel name has at most 200 bytes (got \(name.utf8.count))") }
        let b = Array(name.utf8)
        if b.count >= 2 {
            for i in 1..<b.count where b[i] == UInt8(ascii: ".") && b[i - 1] == UInt8(ascii: ".") {
                throw Errno.fail(EINVAL, "channel name '\(name)' contains '..'")
            }
        }
        try SharedRegion.validate(name)
    }
}

extension ChannelProducer {
    /// Removes the channel's name (mapped copies stay valid).
    public static func unlink(name: String) throws(Errno) {
        try ChannelName.validate(name)
        try SharedRegion.unlink(name: name)
    }
}
