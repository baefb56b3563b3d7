import Foundation

/// The global `budget:` section: a limit on the estimated spend of all training runs in one calendar month.
///
/// The month is the calendar month in the top-level `time_zone`. Spend is an estimate from each run's
/// `hourly_rate`, not a figure from Paperspace billing.
public struct BudgetSettings: Sendable, Equatable {
    /// `monthly_limit`: US dollars per calendar month.
    public var monthlyLimit: Double
    /// `warn_at`: shares of the limit, each above 0 and at most 1, in ascending order, that send a
    /// `budget_warning` once per month when the spend reaches them. Default 0.5, 0.8 and 0.95.
    public var warnAt: [Double]

    public init(monthlyLimit: Double, warnAt: [Double] = BudgetSettings.defaultWarnAt) {
        self.monthlyLimit = monthlyLimit
        self.warnAt = warnAt
    }

    public static let defaultWarnAt: [Double] = [0.5, 0.8, 0.95]
}
