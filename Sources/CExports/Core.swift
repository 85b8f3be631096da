// The C ABI for version, errors and clock. Thin: each function calls AlphaCore.
import AlphaCore
import CAlphaCoreABI

@c @implementation
public func alphacore_version_number() -> UInt32 { Version.number }

@c @implementation
public func alphacore_version_string() -> UnsafePointer<CChar>? {
    UnsafeRawPointer(Version.string.utf8Start).assumingMemoryBound(to: CChar.self)
}

@c @implementation
public func alphacore_strerror(_ err: Int32) -> UnsafePointer<CChar>? { ErrorText.describe(err) }

@c @implementation
public func alphacore_last_detail() -> UnsafePointer<CChar>? { Detail.pointer }

@c @implementation
public func alphacore_now_ns() -> UInt64 { Clock.nowNanoseconds() }   // no failure, no errno

@c @implementation
public func alphacore_cycles() -> UInt64 { Clock.cycles() }

@c @implementation
public func alphacore_cycles_to_ns(_ cycles: UInt64) -> UInt64 { Clock.nanoseconds(fromCycles: cycles) }

@c @implementation
public func alphacore_cycles_per_second() -> UInt64 { Clock.cyclesPerSecond }
