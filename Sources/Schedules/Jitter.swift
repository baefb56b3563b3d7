import Foundation

/// A per-job start delay in `[0, limit)` whole seconds, like systemd's `RandomizedDelaySec=` (`random`) and
/// `FixedRandomDelay=` (`stable`).
public struct Jitter: Sendable, Equatable {
    public enum Mode: String, Sendable, CaseIterable {
        /// A new delay for every fire, derived from the seed, the job name and the fire's instant.
        case random
        /// The same delay for every fire, derived from the seed and the job name only.
        case stable
    }

    /// The exclusive upper bound of the delay, in seconds. 0 disables jitter.
    public var limit: TimeInterval
    public var mode: Mode

    public init(limit: TimeInterval = 0, mode: Mode = .stable) {
        self.limit = limit
        self.mode = mode
    }

    public static let none = Jitter()

    /// Returns the delay for the fire scheduled at `scheduled`. The result depends only on the arguments, so a
    /// planner and a tracker that pass the same seed agree. For `stable`, pass a seed from the host name
    /// (`Jitter.seed(from:)`); for `random`, a value drawn once when the daemon starts.
    public func delay(jobName: String, scheduled: Date, seed: UInt64) -> TimeInterval {
        let wholeSeconds = Int(self.limit.rounded(.down))
        guard wholeSeconds > 0 else {
            return 0
        }
        var hash = Self.fnv1a(Array(jobName.utf8), seed: seed)
        if self.mode == .random {
            hash = Self.mix(hash ^ UInt64(bitPattern: Int64(scheduled.timeIntervalSince1970.rounded(.down))))
        }
        return TimeInterval(Self.mix(hash) % UInt64(wholeSeconds))
    }

    /// Returns a seed derived from text such as the host name, so every daemon on one host spreads jobs the same
    /// way and different hosts spread them differently.
    public static func seed(from text: String) -> UInt64 {
        Self.mix(Self.fnv1a(Array(text.utf8), seed: 0))
    }

    private static func fnv1a(_ bytes: [UInt8], seed: UInt64) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ seed
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// The SplitMix64 finalizer, which spreads nearby inputs over the whole range.
    private static func mix(_ value: UInt64) -> UInt64 {
        var mixed = value &+ 0x9E37_79B9_7F4A_7C15
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
