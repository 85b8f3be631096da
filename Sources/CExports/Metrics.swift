// The C ABI for the metrics registry. Thin: check arguments, call AlphaCore (Metrics/), map
// Errno to -errno. Handles are validated against the set of live registries, so a NULL or
// destroyed handle is -EINVAL, not a crash.
import AlphaCore
import CAlphaCoreABI
import Glibc

/// The registry behind a live handle (retained for the call), or EINVAL.
private func registry(_ p: OpaquePointer?) throws(Errno) -> MetricsRegistry {
    guard let p else { throw Errno.fail(EINVAL, "the metrics registry is NULL") }
    guard let r = MetricsHandles.registry(UnsafeRawPointer(p)) else {
        throw Errno.fail(EINVAL, "\(UnsafeRawPointer(p)) is not a live alphacore_metrics (destroyed or never created)")
    }
    return r
}

private func text(_ p: UnsafePointer<CChar>?, _ what: StaticString, default d: String? = nil) throws(Errno) -> String {
    if p == nil, let d { return d }
    return try readCString(p, limit: 4096, what: what)
}

extension alphacore_metric_opts: VersionedStruct {
    static let cName: StaticString = "alphacore_metric_opts"
    init(defaults: ()) {
        self.init()
        struct_size = UInt32(MemoryLayout<alphacore_metric_opts>.size)
        schema = HistogramExport.defaultSchema
    }
}

extension alphacore_serve_opts: VersionedStruct {
    static let cName: StaticString = "alphacore_serve_opts"
}

/// The options of a histogram or recorder export.
private func metricOpts(_ p: UnsafePointer<alphacore_metric_opts>?) throws(Errno) -> (schema: Int32, bounds: [Double]?) {
    let o = try readVersioned(p, defaults: alphacore_metric_opts(defaults: ()))
    try requireZero(o.reserved0, "alphacore_metric_opts.reserved0")
    try requireZero(o.reserved, "alphacore_metric_opts.reserved")
    if o.bound_count > 1000 { throw Errno.fail(EINVAL, "bound_count \(o.bound_count) is above 1000") }
    guard o.bound_count > 0 else {
        if o.bounds != nil { throw Errno.fail(EINVAL, "bounds is set but bound_count is 0") }
        return (o.schema, nil)
    }
    guard let b = o.bounds else { throw Errno.fail(EINVAL, "bound_count is \(o.bound_count) but bounds is NULL") }
    return (o.schema, Array(UnsafeBufferPointer(start: b, count: Int(o.bound_count))))
}

private func addHistogram(_ reg: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ help: UnsafePointer<CChar>?,
                          _ unit: UnsafePointer<CChar>?, _ labels: UnsafePointer<CChar>?,
                          _ source: MetricSource, _ opts: UnsafePointer<alphacore_metric_opts>?) -> Int32 {
    cStatus { () throws(Errno) -> Int32 in
        let r = try registry(reg)
        let o = try metricOpts(opts)
        try r.registerHistogram(name: try text(name, "name"), help: try text(help, "help", default: ""),
                                unit: try text(unit, "unit", default: "seconds"),
                                labels: try text(labels, "labels", default: ""),
                                source: source, schema: o.schema, bounds: o.bounds)
        return 0
    }
}

@c @implementation
public func alphacore_metrics_create(_ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    cCreate(out) { OpaquePointer(MetricsHandles.open(MetricsRegistry())) }
}

@c @implementation
public func alphacore_metrics_destroy(_ reg: OpaquePointer?) {
    guard let reg else { return }
    keepingErrno { MetricsHandles.close(UnsafeRawPointer(reg), as: MetricsRegistry.self) }
}

@c @implementation
public func alphacore_metrics_add_hist(_ reg: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ help: UnsafePointer<CChar>?,
                                       _ unit: UnsafePointer<CChar>?, _ labels: UnsafePointer<CChar>?,
                                       _ h: OpaquePointer?, _ opts: UnsafePointer<alphacore_metric_opts>?) -> Int32 {
    guard let h else { return nullArgument("the histogram") }
    return addHistogram(reg, name, help, unit, labels, .histogram(Histogram(UnsafeMutableRawPointer(h))), opts)
}

@c @implementation
public func alphacore_metrics_add_recorder(_ reg: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ help: UnsafePointer<CChar>?,
                                           _ unit: UnsafePointer<CChar>?, _ labels: UnsafePointer<CChar>?,
                                           _ rec: OpaquePointer?, _ opts: UnsafePointer<alphacore_metric_opts>?) -> Int32 {
    guard let rec else { return nullArgument("the recorder") }
    return addHistogram(reg, name, help, unit, labels, .recorder(Recorder(UnsafeMutableRawPointer(rec))), opts)
}

@c @implementation
public func alphacore_metrics_add_reader(_ reg: OpaquePointer?, _ labels: UnsafePointer<CChar>?, _ rd: OpaquePointer?) -> Int32 {
    cStatus { () throws(Errno) -> Int32 in
        let r = try registry(reg)
        guard let rd else { throw Errno.fail(EINVAL, "the reader is NULL") }
        try r.registerReader(UnsafeMutablePointer<ReaderCore>(rd), labels: try text(labels, "labels", default: ""))
        return 0
    }
}

/// A counter or gauge slot for the caller: `register` gets the checked strings.
private func slotExport<T>(_ reg: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ help: UnsafePointer<CChar>?,
                           _ unit: UnsafePointer<CChar>?, _ labels: UnsafePointer<CChar>?,
                           _ slot: UnsafeMutablePointer<UnsafeMutablePointer<T>?>?,
                           _ register: (MetricsRegistry, String, String, String, String) throws(Errno) -> UnsafeMutablePointer<T>) -> Int32 {
    cStatus { () throws(Errno) -> Int32 in
        let r = try registry(reg)
        guard let slot else { throw Errno.fail(EINVAL, "slot is NULL") }
        slot.pointee = nil
        slot.pointee = try register(r, try text(name, "name"), try text(help, "help", default: ""),
                                    try text(unit, "unit", default: ""), try text(labels, "labels", default: ""))
        return 0
    }
}

@c @implementation
public func alphacore_metrics_counter(_ reg: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ help: UnsafePointer<CChar>?,
                                      _ unit: UnsafePointer<CChar>?, _ labels: UnsafePointer<CChar>?,
                                      _ slot: UnsafeMutablePointer<UnsafeMutablePointer<UInt64>?>?) -> Int32 {
    slotExport(reg, name, help, unit, labels, slot) { (r, n, h, u, l) throws(Errno) in
        try r.registerCounter(name: n, help: h, unit: u, labels: l)
    }
}

@c @implementation
public func alphacore_metrics_gauge(_ reg: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ help: UnsafePointer<CChar>?,
                                    _ unit: UnsafePointer<CChar>?, _ labels: UnsafePointer<CChar>?,
                                    _ slot: UnsafeMutablePointer<UnsafeMutablePointer<Int64>?>?) -> Int32 {
    slotExport(reg, name, help, unit, labels, slot) { (r, n, h, u, l) throws(Errno) in
        try r.registerGauge(name: n, help: h, unit: u, labels: l)
    }
}

@c @implementation
public func alphacore_metrics_add_host(_ reg: OpaquePointer?, _ labels: UnsafePointer<CChar>?) -> Int32 {
    cStatus { () throws(Errno) -> Int32 in
        try registry(reg).registerHost(labels: try text(labels, "labels", default: ""))
        return 0
    }
}

@c @implementation
public func alphacore_metrics_add_thread(_ reg: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ labels: UnsafePointer<CChar>?) -> Int32 {
    cStatus { () throws(Errno) -> Int32 in
        try registry(reg).registerCurrentThread(name: try text(name, "name"), labels: try text(labels, "labels", default: ""))
        return 0
    }
}

@c @implementation
public func alphacore_metrics_remove(_ reg: OpaquePointer?, _ handle: UnsafeRawPointer?) -> Int32 {
    cStatus { () throws(Errno) -> Int32 in
        let r = try registry(reg)
        guard let handle else { throw Errno.fail(EINVAL, "handle is NULL") }
        return Int32(clamping: try r.remove(handle: handle))
    }
}

@c @implementation
public func alphacore_metrics_write(_ reg: OpaquePointer?, _ format: Int32, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int) -> Int64 {
    cCount { () throws(Errno) -> Int in
        let r = try registry(reg)
        guard let f = MetricsFormat(rawValue: format) else {
            throw Errno.fail(EINVAL, "format \(format) is not ALPHACORE_METRICS_TEXT, _OPENMETRICS or _PROTOBUF")
        }
        if cap < 0 { throw Errno.fail(EINVAL, "cap is larger than SSIZE_MAX") }
        return try writeCString(r.expose(f), to: buf, capacity: cap)
    }
}

// MARK: the scrape endpoint

private func serveOptions(_ p: UnsafePointer<alphacore_serve_opts>?) throws(Errno) -> ServeOptions {
    // Zero fields mean "the default" (ServeOptions()), so the zeroed struct is the default.
    let o = try readVersioned(p, defaults: alphacore_serve_opts())
    try requireZero(o.reserved0, "alphacore_serve_opts.reserved0")
    try requireZero(o.reserved, "alphacore_serve_opts.reserved")
    if o.flags & ~UInt32(ALPHACORE_SERVE_REMOTE) != 0 { throw Errno.fail(EINVAL, "unknown alphacore_serve_opts.flags 0x\(String(o.flags, radix: 16))") }
    var s = ServeOptions()
    s.allowRemote = o.flags & UInt32(ALPHACORE_SERVE_REMOTE) != 0
    if o.max_connections != 0 { s.maxConnections = Int(o.max_connections) }
    if o.request_timeout_ms != 0 { s.requestTimeoutMs = Int(o.request_timeout_ms) }
    if o.idle_timeout_ms != 0 { s.idleTimeoutMs = Int(o.idle_timeout_ms) }
    if o.max_request_bytes != 0 { s.maxRequestBytes = Int(o.max_request_bytes) }
    if o.max_headers != 0 { s.maxHeaders = Int(o.max_headers) }
    if let c = o.cpus {
        let text = try readCString(c, limit: 4096, what: "alphacore_serve_opts.cpus")
        s.cpus = text.isEmpty ? CPUSet([]) : try CPUSet.parse(text, what: "alphacore_serve_opts.cpus")
    }
    return s
}

private func server(_ p: OpaquePointer?) throws(Errno) -> MetricsServer {
    guard let p else { throw Errno.fail(EINVAL, "the metrics server is NULL") }
    guard let s = MetricsHandles.object(UnsafeRawPointer(p)) as? MetricsServer else {
        throw Errno.fail(EINVAL, "\(UnsafeRawPointer(p)) is not a running alphacore_metrics_server (stopped or never started)")
    }
    return s
}

@c @implementation
public func alphacore_metrics_serve(_ reg: OpaquePointer?, _ listen: UnsafePointer<CChar>?,
                                    _ opts: UnsafePointer<alphacore_serve_opts>?,
                                    _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    cCreate(out) { () throws(Errno) in
        let r = try registry(reg)
        let s = try MetricsServer.start(registry: r, listen: try readCString(listen, limit: 256, what: "listen"),
                                        options: try serveOptions(opts))
        return OpaquePointer(MetricsHandles.open(s))
    }
}

@c @implementation
public func alphacore_metrics_server_port(_ s: OpaquePointer?) -> Int32 {
    cStatus { () throws(Errno) -> Int32 in Int32(try server(s).port) }
}

@c @implementation
public func alphacore_metrics_server_stop(_ s: OpaquePointer?) -> Int32 {
    cStatus { () throws(Errno) -> Int32 in
        guard let s else { return 0 }
        guard let srv = MetricsHandles.close(UnsafeRawPointer(s), as: MetricsServer.self) else {
            throw Errno.fail(EINVAL, "\(UnsafeRawPointer(s)) is not a running alphacore_metrics_server (stopped or never started)")
        }
        srv.stop()
        return 0
    }
}
