// The C ABI of the doctor. Thin: validates the options, runs AlphaCore's Doctor, writes the report.
import AlphaCore
import CAlphaCoreABI
import Glibc

extension alphacore_doctor_opts: VersionedStruct {
    static let cName: StaticString = "alphacore_doctor_opts"
    /// 0.1's struct ended at reserved[4]; the network fields came in 0.2.
    static var firstVersionSize: Int { 64 }
}

/// The 0.2 network fields into the options (EINVAL with a detail for bad ones).
private func readNetwork(_ o: alphacore_doctor_opts, into options: inout DoctorOptions) throws(Errno) {
    if let nics = o.nics {
        let text = try readCString(nics, limit: Int(ALPHACORE_NICS_MAX), what: "alphacore_doctor_opts.nics")
        options.nics = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0) }
    }
    if let c = o.nic_cpus { options.nicCPUs = try readCString(c, limit: Int(ALPHACORE_CPULIST_MAX), what: "alphacore_doctor_opts.nic_cpus") }
    if o.burst_bytes != 0 {
        if o.burst_bytes > 1 << 40 { throw Errno.fail(EINVAL, "burst_bytes \(o.burst_bytes) is above 2^40") }
        options.burstBytes = Int64(o.burst_bytes)
    }
    if o.pid < 0 { throw Errno.fail(EINVAL, "pid \(o.pid) is negative") }
    if o.pid != 0 { options.pid = o.pid }
    switch o.profile {
    case UInt32(ALPHACORE_DOCTOR_PROFILE_LATENCY): options.profile = .latency
    case UInt32(ALPHACORE_DOCTOR_PROFILE_THROUGHPUT): options.profile = .throughput
    case UInt32(ALPHACORE_DOCTOR_PROFILE_SPIN): options.profile = .spin
    default: throw Errno.fail(EINVAL, "alphacore_doctor_opts.profile \(o.profile) is not an ALPHACORE_DOCTOR_PROFILE_*")
    }
}

@c @implementation
public func alphacore_doctor_run(_ opts: UnsafePointer<alphacore_doctor_opts>?, _ buf: UnsafeMutablePointer<CChar>?,
                                 _ cap: Int, _ summary: UnsafeMutablePointer<alphacore_doctor_summary>?) -> Int32 {
    cCount { () throws(Errno) in
        let known: UInt32 = UInt32(ALPHACORE_DOCTOR_PROBE | ALPHACORE_DOCTOR_TEXT | ALPHACORE_DOCTOR_COLOUR)
        let o = try readVersioned(opts, defaults: alphacore_doctor_opts())
        if o.flags & ~known != 0 { throw Errno.fail(EINVAL, "unknown alphacore_doctor_opts.flags 0x\(String(o.flags & ~known, radix: 16))") }
        try requireZero(o.reserved0, "alphacore_doctor_opts.reserved0")
        try requireZero(o.reserved, "alphacore_doctor_opts.reserved")
        if o.probe_ms > 60_000 { throw Errno.fail(EINVAL, "probe_ms \(o.probe_ms) is above 60000") }
        if cap < 0 || (buf == nil && cap != 0) { throw Errno.fail(EINVAL, "buffer is NULL but its capacity is \(cap)") }
        var options = DoctorOptions()
        if let cpus = o.cpus { options.cpus = try readCString(cpus, limit: Int(ALPHACORE_CPULIST_MAX), what: "alphacore_doctor_opts.cpus") }
        if let hp = o.hugepages {
            options.hugepages = try HugePageNeed.parseList(try readCString(hp, limit: Int(ALPHACORE_HUGEPAGES_SPEC_MAX), what: "alphacore_doctor_opts.hugepages"))
        }
        options.probe = o.flags & UInt32(ALPHACORE_DOCTOR_PROBE) != 0
        if o.probe_ms != 0 { options.probeMilliseconds = Int(o.probe_ms) }
        try readNetwork(o, into: &options)
        let report = try Doctor.run(options)
        let text = o.flags & UInt32(ALPHACORE_DOCTOR_TEXT) != 0
            ? report.table(colour: o.flags & UInt32(ALPHACORE_DOCTOR_COLOUR) != 0)
            : report.json()
        if let summary {
            var s = alphacore_doctor_summary()
            s.ok = UInt32(report.count(.ok))
            s.info = UInt32(report.count(.info))
            s.unknown = UInt32(report.count(.unknown))
            s.warn = UInt32(report.count(.warn))
            s.fail = UInt32(report.count(.fail))
            s.checks = UInt32(report.checks.count)
            s.worst = UInt32(report.worst.rawValue)
            s.elapsed_us = UInt64(max(0, report.elapsedMicroseconds))
            summary.pointee = s
        }
        let n = try writeCString(text.utf8, to: buf, capacity: cap)
        if n > Int(Int32.max) { throw Errno.fail(EOVERFLOW, "the report is \(n) bytes") }
        return n
    }
}
