import CAlphaCoreShims
import CLibURing
import Glibc

/// State of one-shot batches (alphacore_read_batch): made on first use.
struct ReaderBatchState {
    var placeholder = 0
}

extension ReaderCore {
    mutating func teardownBatch() {
        if let b = batch {
            b.deinitialize(count: 1)
            b.deallocate()
            batch = nil
        }
    }

    /// Gives back a batch buffer id; false if `id` is not one the caller holds.
    mutating func releaseBatch(_ id: UInt32) -> Bool { false }

    mutating func readBatch(fds: UnsafeBufferPointer<Int32>, offsets: UnsafeBufferPointer<UInt64>?,
                            out: UnsafeMutableBufferPointer<ReaderCompletion>, timeoutNs: Int64) throws(Errno) -> Int {
        throw Errno.fail(ENOSYS, "not yet")
    }
}
