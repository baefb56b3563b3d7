import Foundation

/// A value protected by a lock, for state shared between threads.
public final class Protected<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with exclusive access to the value and returns its result.
    @discardableResult
    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        self.lock.lock()
        defer { self.lock.unlock() }
        return try body(&self.value)
    }

    public var current: Value {
        self.withLock { $0 }
    }
}

/// A one-shot flag that threads can wait on with a timeout; used for cancellation and for sleeping
/// until a deadline without busy polling.
public final class Signal: @unchecked Sendable {
    private let condition = NSCondition()
    private var raised = false

    public init() {}

    public var isRaised: Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.raised
    }

    public func raise() {
        self.condition.lock()
        self.raised = true
        self.condition.broadcast()
        self.condition.unlock()
    }

    /// Waits until the flag is raised or `seconds` have passed. Returns true if the flag was raised.
    @discardableResult
    public func wait(seconds: Double) -> Bool {
        // NSCondition.wait(until:) traps on very distant dates, so waits are capped at one year.
        let deadline = Date(timeIntervalSinceNow: min(max(0, seconds), 365 * 86400))
        self.condition.lock()
        defer { self.condition.unlock() }
        while !self.raised {
            if !self.condition.wait(until: deadline) {
                return self.raised
            }
        }
        return true
    }
}
