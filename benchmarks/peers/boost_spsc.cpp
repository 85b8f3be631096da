// The boost peer of bench_channel: boost::lockfree::spsc_queue of 64-byte messages placed in
// boost::interprocess shared memory (a named managed_shared_memory segment), behind a C API so
// the C benchmark can drive it. Built by benchmarks/run.sh (BENCH=channel) into libboost_spsc.so.
#include <boost/interprocess/managed_shared_memory.hpp>
#include <boost/lockfree/spsc_queue.hpp>
#include <cstdint>
#include <cstring>
#include <new>

namespace bip = boost::interprocess;
struct Msg64 { unsigned char b[64]; };
using Queue = boost::lockfree::spsc_queue<Msg64, boost::lockfree::capacity<8192>>;

struct Peer {
    bip::managed_shared_memory *seg;
    Queue *q;
};

extern "C" {
// Creates (create = 1) or opens the segment `name` and its queue. NULL on failure.
void *bq_open(const char *name, int create) {
    try {
        auto *seg = create ? new bip::managed_shared_memory(bip::create_only, name, 2u << 20)
                           : new bip::managed_shared_memory(bip::open_only, name);
        Queue *q = create ? seg->construct<Queue>("q")() : seg->find<Queue>("q").first;
        if (!q) { delete seg; return nullptr; }
        return new Peer{seg, q};
    } catch (...) {
        return nullptr;
    }
}
void bq_close(void *p) {
    auto *peer = static_cast<Peer *>(p);
    delete peer->seg;
    delete peer;
}
void bq_remove(const char *name) { bip::shared_memory_object::remove(name); }
int bq_push(void *p, const void *msg) { return static_cast<Peer *>(p)->q->push(*static_cast<const Msg64 *>(msg)) ? 1 : 0; }
int bq_pop(void *p, void *out) { return static_cast<Peer *>(p)->q->pop(*static_cast<Msg64 *>(out)) ? 1 : 0; }
int bq_pop_many(void *p, void *out, int max) {
    return (int)static_cast<Peer *>(p)->q->pop(static_cast<Msg64 *>(out), (size_t)max);
}
}
