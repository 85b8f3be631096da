/// The library's version; the header's ALPHACORE_VERSION_* macros must say the same (a test
/// compares them through the built library).
public enum Version {
    public static let major: UInt32 = 0
    public static let minor: UInt32 = 1
    public static let patch: UInt32 = 0
    /// major * 10000 + minor * 100 + patch.
    public static let number: UInt32 = major * 10000 + minor * 100 + patch
    /// "0.1.0", NUL-terminated, static.
    public static let string: StaticString = "0.1.0"
}
