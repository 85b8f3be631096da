// The time-boxed measurements behind --probe, on the running system only: jitter on each hot CPU
// (hiccups-style: a thread spins on the cycle counter and every gap above 1 us is a hiccup), the
// local timer interrupts it took meanwhile (the tick stopped or not), and core-to-core latency
// between hot CPUs (c2clat-style ping-pong on one cache line).
import Glibc
import Synchronization

extension DoctorContext {
    /// At most this many hot CPUs are probed (the probes run in parallel, one thread each).
    static let probeCPULimit = 8

    func probeChecks() -> [DoctorCheck] {
        if !host.live {
            return [DoctorCheck("probe", .info, saw: "probes measure the running system; this run reads the tree at \(host.root)",
                                expected: "probes on the live system", source: "probe")]
        }
        if hot.isEmpty {
            return [DoctorCheck("probe", .unknown, saw: "cannot tell: no hot CPUs to probe", expected: "hot CPUs", source: "probe")]
        }
        var out: [DoctorCheck] = []
        let cpus = Array(hot.prefix(Self.probeCPULimit))
        let millis = max(10, min(options.probeMilliseconds, 5000))
        let before = localTimerCounts()
        let t0 = Clock.nowNanoseconds()
        let results = DoctorJitter.run(cpus: cpus, milliseconds: millis)
        let seconds = Double(Clock.nowNanoseconds() &- t0) / 1e9
        let after = localTimerCounts()
        let nohz = Set((try? host.nohzFull.get()) ?? [])
        for r in results {
            let expected = "no gap above 20 us while spinning"
            if let err = r.error {
                out.append(DoctorCheck("probe.jitter.cpu\(r.cpu)", .unknown, saw: "cannot tell: \(err)", expected: expected, source: "probe"))
                continue
            }
            let gaps = r.gaps.sorted()
            func pct(_ p: Double) -> Int64 { gaps.isEmpty ? 0 : gaps[min(gaps.count - 1, Int(Double(gaps.count - 1) * p))] }
            let maxGap = gaps.last ?? 0
            let saw = gaps.isEmpty ? "no gap above 1 us in \(millis) ms"
                : "\(gaps.count) gaps above 1 us in \(millis) ms: p50 \(DoctorFormat.nanos(pct(0.5))), p99 \(DoctorFormat.nanos(pct(0.99))), max \(DoctorFormat.nanos(maxGap))"
                  + (r.truncated ? " (first \(gaps.count) kept)" : "")
            out.append(DoctorCheck("probe.jitter.cpu\(r.cpu)", maxGap <= 20_000 ? .ok : .warn, saw: saw, expected: expected, source: "probe",
                                   advice: maxGap <= 20_000 ? "" : "interruptions: see the tick, IRQ and isolation checks for this CPU",
                                   data: [("gaps", Int64(gaps.count)), ("p50_ns", pct(0.5)), ("p99_ns", pct(0.99)), ("max_ns", maxGap),
                                          ("duration_ms", Int64(millis))]))
            // probe.tick: local timer interrupts on that CPU during the spin.
            let tickExpected = nohz.contains(r.cpu) ? "at most 2 local timer interrupts per second (nohz_full, one task running)" : "the periodic tick (CPU not in nohz_full)"
            if let b = before?[r.cpu], let a = after?[r.cpu], seconds > 0 {
                let perSecond = Int64(Double(a - b) / seconds)
                let sev: DoctorSeverity = nohz.contains(r.cpu) ? (perSecond <= 2 ? .ok : .warn) : .info
                out.append(DoctorCheck("probe.tick.cpu\(r.cpu)", sev, saw: "\(a - b) local timer interrupts in \(Int(seconds * 1000)) ms (\(perSecond)/s)",
                                       expected: tickExpected, source: "/proc/interrupts (LOC)",
                                       advice: sev == .warn ? "the tick did not stop: another task, timer or RCU work shares the CPU" : "",
                                       data: [("per_second", perSecond)]))
            } else {
                out.append(DoctorCheck("probe.tick.cpu\(r.cpu)", .unknown, saw: "cannot tell: /proc/interrupts has no readable LOC line",
                                       expected: tickExpected, source: "/proc/interrupts"))
            }
        }
        out += coreToCore(cpus)
        return out
    }

    /// LOC ("Local timer interrupts") per CPU from /proc/interrupts, read fresh.
    func localTimerCounts() -> [Int: Int64]? {
        guard let t = try? SysFile.readSystem("/proc/interrupts") else { return nil }
        let lines = t.split(separator: "\n")
        guard let header = lines.first else { return nil }
        let cpuIds = header.split(whereSeparator: DoctorHost.isBlank).compactMap { $0.hasPrefix("CPU") ? Int($0.dropFirst(3)) : nil }
        for line in lines where SysFile.trim(line).hasPrefix("LOC:") {
            let f = line.split(whereSeparator: DoctorHost.isBlank).dropFirst()
            var counts: [Int: Int64] = [:]
            for (i, v) in f.prefix(cpuIds.count).enumerated() { if let n = Int64(v) { counts[cpuIds[i]] = n } }
            return counts
        }
        return nil
    }

    func coreToCore(_ cpus: [Int]) -> [DoctorCheck] {
        let expected = "one-way core-to-core latency, for placing communicating threads"
        guard cpus.count >= 2 else {
            return [DoctorCheck("probe.c2c", .info, saw: "needs two hot CPUs (have \(hotText))", expected: expected, source: "probe")]
        }
        var out: [DoctorCheck] = []
        let pairs = cpus.prefix(4).enumerated().flatMap { (i, a) in cpus.prefix(4).dropFirst(i + 1).map { (a, $0) } }
        for (a, b) in pairs {
            switch DoctorPingPong.run(a, b, milliseconds: 100) {
            case .success(let (oneWay, trips)):
                out.append(DoctorCheck("probe.c2c.cpu\(a).cpu\(b)", .info, saw: "\(DoctorFormat.nanos(oneWay)) one way (median of \(trips) round trips / 2)",
                                       expected: expected, source: "probe", data: [("one_way_ns", oneWay), ("round_trips", Int64(trips))]))
            case .failure(let p):
                out.append(DoctorCheck("probe.c2c.cpu\(a).cpu\(b)", .unknown, saw: "cannot tell: \(p.reason)", expected: expected, source: "probe"))
            }
        }
        return out
    }
}


/// Pins the calling thread for a probe (the CPU capability's pinning, through DoctorPin).
enum DoctorJitter {
    struct Result {
        var cpu: Int
        var gaps: [Int64] = []
        var truncated = false
        var error: String? = nil
    }

    final class Slot: @unchecked Sendable { var result: Result; init(_ cpu: Int) { result = Result(cpu: cpu) } }

    static let maxGaps = 200_000

    static func run(cpus: [Int], milliseconds: Int) -> [Result] {
        let hz = Clock.cyclesPerSecond
        let threshold = max(1, hz / 1_000_000)  // 1 us in cycles
        let span = hz / 1000 * UInt64(milliseconds)
        let slots = cpus.map { Slot($0) }
        var threads: [pthread_t] = []
        for slot in slots {
            let t = PThread.start {
                if let err = DoctorPin.pinCurrentThread(slot.result.cpu) { slot.result.error = err; return }
                var gaps: [Int64] = []
                gaps.reserveCapacity(4096)
                var truncated = false
                let start = Clock.cycles()
                var last = start
                while true {
                    let now = Clock.cycles()
                    let d = now &- last
                    if d > threshold {
                        if gaps.count < maxGaps { gaps.append(Int64(bitPattern: Clock.nanoseconds(fromCycles: d))) } else { truncated = true }
                    }
                    last = now
                    if now &- start > span { break }
                }
                slot.result.gaps = gaps
                slot.result.truncated = truncated
            }
            if let t { threads.append(t) } else { slot.result.error = "pthread_create failed" }
        }
        for t in threads { pthread_join(t, nil) }
        return slots.map(\.result)
    }
}

/// c2clat-style ping-pong: CPU a writes an odd number, CPU b answers with the next even one.
enum DoctorPingPong {
    final class Shared: @unchecked Sendable {
        let flag = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: 1)
        let stop = UnsafeMutablePointer<Atomic<Bool>>.allocate(capacity: 1)
        var error: String? = nil
        init() { flag.initialize(to: Atomic(0)); stop.initialize(to: Atomic(false)) }
        deinit { flag.deinitialize(count: 1); flag.deallocate(); stop.deinitialize(count: 1); stop.deallocate() }
    }

    static func run(_ a: Int, _ b: Int, milliseconds: Int) -> Swift.Result<(Int64, Int), DoctorProblem> {
        let shared = Shared()
        let span = Clock.cyclesPerSecond / 1000 * UInt64(milliseconds)
        let pong = PThread.start {
            if let err = DoctorPin.pinCurrentThread(b) { shared.error = err; shared.stop.pointee.store(true, ordering: .releasing); return }
            var expect = 1
            while !shared.stop.pointee.load(ordering: .acquiring) {
                if shared.flag.pointee.load(ordering: .acquiring) == expect {
                    shared.flag.pointee.store(expect + 1, ordering: .releasing)
                    expect += 2
                }
            }
        }
        guard let pong else { return .failure(DoctorProblem("pthread_create failed")) }
        var samples: [Int64] = []
        var pinError: String? = nil
        let ping = PThread.start {
            if let err = DoctorPin.pinCurrentThread(a) { pinError = err; shared.stop.pointee.store(true, ordering: .releasing); return }
            samples.reserveCapacity(1 << 16)
            let start = Clock.cycles()
            var n = 1
            outer: while samples.count < 1 << 16 {
                let t0 = Clock.cycles()
                shared.flag.pointee.store(n, ordering: .releasing)
                while shared.flag.pointee.load(ordering: .acquiring) != n + 1 {
                    if shared.stop.pointee.load(ordering: .relaxed) || Clock.cycles() &- start > span { break outer }
                }
                samples.append(Int64(bitPattern: Clock.nanoseconds(fromCycles: Clock.cycles() &- t0)))
                n += 2
                if Clock.cycles() &- start > span { break }
            }
            shared.stop.pointee.store(true, ordering: .releasing)
        }
        if let ping { pthread_join(ping, nil) } else { shared.stop.pointee.store(true, ordering: .releasing) }
        pthread_join(pong, nil)
        if let e = pinError ?? shared.error { return .failure(DoctorProblem(e)) }
        if samples.isEmpty { return .failure(DoctorProblem("no round trip completed within \(milliseconds) ms")) }
        samples.sort()
        return .success((samples[samples.count / 2] / 2, samples.count))
    }
}

/// Pinning for the probes: the CPU capability's verified pinning.
enum DoctorPin {
    /// nil on success, or why not.
    static func pinCurrentThread(_ cpu: Int) -> String? {
        do throws(Errno) { try Pinning.pinCurrentThread(cpu: cpu); return nil } catch {
            return "cannot pin to CPU \(cpu): \(error.description) (\(Detail.current))"
        }
    }
}
