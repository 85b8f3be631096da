import Glibc

/// Where one slot of the fd table stands.
enum ReaderSlotState: UInt8 {
    case free, active
    /// Waiting for a buffer (ENOBUFS): reading resumes when the caller gives buffers back.
    case parked
    /// Its end (or error) is handed out; the fd stays added until the caller removes it.
    case done
    /// Removed while a read was in flight: freed at that read's final completion.
    case draining
}

/// One fd's state in a reader.
struct ReaderSlot {
    var fd: Int32 = -1
    var state: ReaderSlotState = .free
    var isSocket = false
    /// A datagram (or seqpacket) socket: each read is one datagram; a short read does not mean
    /// drained, and a zero-length datagram is not an end.
    var isDatagram = false
    /// Bumped at remove: completions of an older generation are dropped.
    var gen: UInt32 = 0
    var userData: UInt64 = 0
    /// Framing: bytes of an incomplete message kept in this slot's accumulator, and the
    /// message's full size once its length prefix is complete (0 until then).
    var partialBytes: UInt32 = 0
    var partialSize: UInt32 = 0

    // io_uring.
    /// A multishot read is in flight (or queued in the SQ).
    var armed = false
    /// The hang-up set reported this fd (EPOLLRDHUP/EPOLLHUP); off the watch list, a watched
    /// fd is a stall suspect (armed again after ENOBUFS).
    var peerHungUp = false
    /// On the hang-up watch list.
    var watched = false
    /// The watch's last check found data waiting (cleared by any data completion); found again
    /// at the next check, the read is stuck and is cancelled and armed again.
    var dataSeenAtCheck = false
    /// A cancel of a stuck read is in flight: arm again at its final completion.
    var rearmAfterCancel = false
    /// With SQPOLL: the watch found only the end (or an error) waiting and cancelled the read;
    /// the end (`pendingResult`) is handed out once that read's final completion is harvested,
    /// after every byte the kernel thread took (see HangupWatch.swift, `checkSlot`).
    var endPending = false
    var pendingResult: Int32 = 0

    // epoll.
    /// On the ready queue.
    var queued = false
    /// The peer hung up or the fd failed (EPOLLRDHUP, EPOLLHUP, EPOLLERR were seen): a short
    /// read no longer means drained, read on until 0 or an error.
    var hangupSeen = false
}

/// The fd table: one slot per added fd, a stack of free slots, the fd -> slot map, and the
/// slots parked for lack of buffers.
struct FdTable {
    var slots: UnsafeMutablePointer<ReaderSlot>
    let capacity: Int
    var freeSlots: UnsafeMutablePointer<Int32>
    var freeSlotCount: Int
    /// fd -> slot (-1: none), grown on demand.
    var fdMap: UnsafeMutablePointer<Int32>?
    var fdMapSize = 0
    var activeFds = 0
    var parked: UnsafeMutablePointer<Int32>
    var parkedCount = 0

    init(capacity: Int) {
        self.capacity = capacity
        slots = ReaderMemory.allocate(capacity, ReaderSlot())
        freeSlots = ReaderMemory.allocate(capacity, 0)
        for i in 0..<capacity { freeSlots[i] = Int32(capacity - 1 - i) }
        freeSlotCount = capacity
        parked = ReaderMemory.allocate(capacity, 0)
    }

    func deallocate() {
        slots.deallocate()
        freeSlots.deallocate()
        parked.deallocate()
        fdMap?.deallocate()
    }

    /// Encodes a slot and its generation for the kernel (io_uring user_data, epoll data).
    @inline(__always)
    static func token(_ slot: Int, _ gen: UInt32) -> UInt64 {
        UInt64(truncatingIfNeeded: slot) | (UInt64(gen) &<< 32)
    }

    /// The slot a token names (nil past the capacity); `current` also needs its generation.
    @inline(__always)
    func slot(of token: UInt64) -> (idx: Int, current: Bool)? {
        let idx = Int(truncatingIfNeeded: token & 0xFFFF_FFFF)
        if idx >= capacity { return nil }
        return (idx, slots[idx].gen == UInt32(truncatingIfNeeded: token &>> 32))
    }

    /// The slot of an added fd, or nil.
    func slotOf(_ fd: Int32) -> Int? {
        guard fd >= 0, Int(fd) < fdMapSize, let map = fdMap else { return nil }
        let s = map[Int(fd)]
        return s >= 0 ? Int(s) : nil
    }

    mutating func mapFd(_ fd: Int32, _ slot: Int32) {
        let i = Int(fd)
        if i >= fdMapSize {
            let newSize = max(i + 1, fdMapSize * 2, 1024)
            let m = ReaderMemory.allocate(newSize, Int32(-1))
            if let old = fdMap {
                m.update(from: old, count: fdMapSize)
                old.deallocate()
            }
            fdMap = m
            fdMapSize = newSize
        }
        fdMap?[i] = slot
    }

    /// Takes a free slot, or nil when the capacity is reached.
    mutating func takeSlot() -> Int? {
        if freeSlotCount == 0 { return nil }
        freeSlotCount -= 1
        return Int(freeSlots[freeSlotCount])
    }

    mutating func freeSlot(_ idx: Int) {
        let s = slots + idx
        s.pointee.state = .free
        s.pointee.fd = -1
        s.pointee.armed = false
        freeSlots[freeSlotCount] = Int32(idx)
        freeSlotCount += 1
    }

    mutating func park(_ idx: Int) {
        slots[idx].state = .parked
        parked[parkedCount] = Int32(idx)
        parkedCount += 1
    }

    mutating func unpark(_ idx: Int) {
        for i in 0..<parkedCount where parked[i] == Int32(idx) {
            parked[i] = parked[parkedCount - 1]
            parkedCount -= 1
            break
        }
    }
}
