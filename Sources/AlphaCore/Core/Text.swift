/// Substring search without _StringProcessing. The standard library's `String.contains(String)`
/// and `firstRange(of:)` live in the _StringProcessing module, which drags about 1 MB of regex
/// machinery into the static-stdlib .so (Tests/abi/check_abi.sh rejects it). Byte-wise UTF-8
/// search is exact for the ASCII and UTF-8 texts the library reads.
extension StringProtocol {
    /// Whether `needle` occurs in this text.
    public func containsText<T: StringProtocol>(_ needle: T) -> Bool { rangeOfText(needle) != nil }

    /// The first range where `needle` occurs, or nil.
    public func rangeOfText<T: StringProtocol>(_ needle: T) -> Range<Index>? {
        let hay = utf8
        let pattern = Array(needle.utf8)
        guard let first = pattern.first else { return startIndex..<startIndex }
        var i = hay.startIndex
        while i != hay.endIndex {
            if hay[i] == first {
                var h = hay.index(after: i)
                var k = 1
                while k < pattern.count && h != hay.endIndex && hay[h] == pattern[k] {
                    h = hay.index(after: h)
                    k += 1
                }
                if k == pattern.count { return i..<h }
            }
            i = hay.index(after: i)
        }
        return nil
    }
}
