/// The values a cron field matches, as a bit set over 0-63.
struct CronValueSet: Sendable, Equatable {
    var bits: UInt64 = 0

    init() {}

    init(values: some Sequence<Int>) {
        for value in values {
            self.insert(value)
        }
    }

    func contains(_ value: Int) -> Bool {
        value >= 0 && value < 64 && self.bits & (1 << UInt64(value)) != 0
    }

    mutating func insert(_ value: Int) {
        self.bits |= 1 << UInt64(value)
    }

    mutating func remove(_ value: Int) {
        self.bits &= ~(1 << UInt64(value))
    }

    /// Returns the smallest member that is at least `value`, or nil if there is none.
    func next(atOrAfter value: Int) -> Int? {
        guard value < 64 else { return nil }
        let start = max(value, 0)
        let remaining = self.bits >> UInt64(start)
        guard remaining != 0 else { return nil }
        return start + remaining.trailingZeroBitCount
    }

    var first: Int? {
        self.next(atOrAfter: 0)
    }

    var values: [Int] {
        (0..<64).filter { self.contains($0) }
    }
}
