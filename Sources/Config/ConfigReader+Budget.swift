import Foundation

/// The cost keys: the job key `max_cost` and the top-level `budget:` section.
extension ConfigReader {
    static let budgetKeys = ["monthly_limit", "warn_at"]

    /// Reads a job's `max_cost` in US dollars. A limit needs `machine.hourly_rate`, because the run's maximum
    /// cost is the rate times `max_duration`; without a rate the limit could never be checked.
    func maxCost(_ view: MappingView, machine: MachineSpec?) -> Double? {
        guard let cost = self.decimal(view, "max_cost", example: "25") else { return nil }
        let position = view.value("max_cost")!.position
        let path = view.path(of: "max_cost")
        guard cost > 0 else {
            self.error(
                position,
                path,
                "max cost \(cost) is out of range: expected US dollars per run, more than 0",
                fix: "write a positive amount such as `25`, or remove `max_cost` for no per-run limit"
            )
            return nil
        }
        if let machine, machine.hourlyRate == nil {
            self.error(
                position,
                path,
                "`max_cost` needs `machine.hourly_rate`: the maximum cost of a run is the hourly rate times "
                    + "`max_duration`",
                fix: "add `hourly_rate:` with the machine type's price in US dollars per hour under `machine:`"
            )
            return nil
        }
        return cost
    }

    /// Reads the top-level `budget:` section, or returns nil when it is absent or invalid.
    func budget(_ root: MappingView) -> BudgetSettings? {
        guard let node = root.value("budget"),
            let view = self.mapping(node, path: "budget", allowedKeys: ConfigReader.budgetKeys)
        else {
            return nil
        }
        guard view.entry("monthly_limit") != nil else {
            self.missing(view, "monthly_limit", expected: "US dollars per calendar month", example: "500")
            return nil
        }
        guard let limit = self.decimal(view, "monthly_limit", example: "500") else { return nil }
        guard limit > 0 else {
            self.error(
                view.value("monthly_limit")!.position,
                view.path(of: "monthly_limit"),
                "monthly limit \(limit) is out of range: expected US dollars, more than 0",
                fix: "write a positive amount such as `500`, or remove the `budget:` section for no limit"
            )
            return nil
        }
        guard view.entry("warn_at") != nil else {
            return BudgetSettings(monthlyLimit: limit)
        }
        guard let items = self.stringList(view, "warn_at") else { return nil }
        var shares: [Double] = []
        var valid = true
        for item in items {
            let text = item.value.trimmingCharacters(in: .whitespaces)
            guard let share = Double(text), share > 0, share <= 1 else {
                self.error(
                    item.position,
                    item.path,
                    "invalid warning share `\(text)`: expected a number above 0 and at most 1",
                    fix: "write shares of the monthly limit such as `[0.5, 0.8, 0.95]`"
                )
                valid = false
                continue
            }
            if let last = shares.last, share <= last {
                self.error(
                    item.position,
                    item.path,
                    "warning share \(text) is not above the one before it (\(last))",
                    fix: "list each share once, in ascending order, such as `[0.5, 0.8, 0.95]`"
                )
                valid = false
                continue
            }
            shares.append(share)
        }
        return valid ? BudgetSettings(monthlyLimit: limit, warnAt: shares) : nil
    }
}
