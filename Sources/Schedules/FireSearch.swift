import Foundation

/// Turns the wall times of a `WallPattern` into instants under nightshift's daylight saving time policy.
///
/// Fixed-time schedules use the wall-time rule: a named time fires once, at its first occurrence, and a time that
/// clocks skip fires at the first instant after the gap. Interval-like schedules use the clock-reading rule: every
/// instant whose local reading matches fires, so a repeated hour fires in both passes and a skipped hour not at all.
enum FireSearch {
    /// Latest supported instant, about the year 33,658; later references return nil.
    static let maximumSeconds: Double = 1e12

    static func next(
        _ pattern: WallPattern,
        intervalLike: Bool,
        after date: Date,
        in zone: TimeZone
    ) -> ScheduledFire? {
        let reference = date.timeIntervalSince1970
        guard reference.isFinite, abs(reference) < Self.maximumSeconds else {
            return nil
        }
        let referenceSecond = Int(reference.rounded(.down))
        if intervalLike {
            return self.nextByClockReading(pattern, after: referenceSecond, in: zone)
        }
        return self.nextByWallTime(pattern, after: reference, referenceSecond: referenceSecond, in: zone)
    }

    private static func nextByWallTime(
        _ pattern: WallPattern,
        after reference: Double,
        referenceSecond: Int,
        in zone: TimeZone
    ) -> ScheduledFire? {
        // Wall times up to the reference second map to instants at or before it, because the first instant that
        // shows a wall time never decreases as the wall time grows. Later wall times can still map to earlier
        // instants during the second pass of a fall-back overlap, which the check in the loop skips.
        var cursor = WallClock.wallTime(at: referenceSecond, zone) + 1
        let lastYear = pattern.lastSearchYear(from: WallTime(wallSeconds: cursor).year)
        while let match = pattern.firstMatch(atOrAfter: cursor, throughYear: lastYear) {
            let instant = WallClock.firstInstant(showing: match, in: zone)
            if Double(instant) > reference {
                let shown = WallClock.wallTime(at: instant, zone)
                let movedFrom = shown == match ? nil : LocalDateTime(wallSeconds: match)
                return ScheduledFire(date: Date(timeIntervalSince1970: Double(instant)), movedFrom: movedFrom)
            }
            cursor = match + 1
        }
        return nil
    }

    /// Walks the spans of constant UTC offset forward from the reference and returns the first instant whose
    /// local reading matches.
    private static func nextByClockReading(_ pattern: WallPattern, after referenceSecond: Int, in zone: TimeZone)
        -> ScheduledFire?
    {
        var spanStart = referenceSecond + 1
        let lastYear = pattern.lastSearchYear(from: WallTime(wallSeconds: spanStart).year)
        while WallTime(wallSeconds: spanStart).year <= lastYear + 1 {
            let offset = WallClock.offset(at: spanStart, zone)
            let transition = zone.nextDaylightSavingTimeTransition(
                after: Date(timeIntervalSince1970: Double(spanStart))
            )
            let spanEnd = transition.map { Int($0.timeIntervalSince1970.rounded(.up)) }
            guard let match = pattern.firstMatch(atOrAfter: spanStart + offset, throughYear: lastYear) else {
                return nil
            }
            let candidate = match - offset
            if spanEnd.map({ candidate < $0 }) ?? true {
                if WallClock.offset(at: candidate, zone) == offset {
                    return ScheduledFire(date: Date(timeIntervalSince1970: Double(candidate)))
                }
                // The offset changed without a transition that Foundation reports, so end the span where it
                // changes.
                spanStart = self.firstOffsetChange(from: spanStart, to: candidate, offset: offset, zone: zone)
                continue
            }
            guard let spanEnd, spanEnd > spanStart else {
                return nil
            }
            spanStart = spanEnd
        }
        return nil
    }

    /// Returns the first instant in `(start, end]` whose offset differs from `offset`, given that `end`'s does.
    private static func firstOffsetChange(from start: Int, to end: Int, offset: Int, zone: TimeZone) -> Int {
        var low = start
        var high = end
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if WallClock.offset(at: middle, zone) == offset {
                low = middle
            } else {
                high = middle
            }
        }
        return high
    }
}
