import Foundation
import Testing

@testable import Config

/// The cost keys `max_cost` and `budget:`, the sweep interval and the name prefix rules.
@Suite struct BudgetConfigTests {
    /// The minimal job with an hourly rate, so that `max_cost` can be checked.
    static let withRate = ConfigFixtures.minimal(
        replacing: "      region: ny2\n",
        with: "      region: ny2\n      hourly_rate: 0.76\n"
    )

    @Test func maxCostAndBudgetAreRead() throws {
        let text = BudgetConfigTests.withRate + "    max_cost: 25\nbudget:\n  monthly_limit: 500\n"
        let configuration = try ConfigFixtures.load(text)
        #expect(configuration.jobs[0].maxCost == 25)
        let budget = try #require(configuration.budget)
        #expect(budget.monthlyLimit == 500)
        #expect(budget.warnAt == [0.5, 0.8, 0.95])
        #expect(configuration.paperspace.sweepInterval == 600)
    }

    @Test func budgetIsOptional() throws {
        let configuration = try ConfigFixtures.load(ConfigFixtures.minimal)
        #expect(configuration.budget == nil)
        #expect(configuration.jobs[0].maxCost == nil)
    }

    @Test func maxCostWithoutRateIsError() throws {
        let error = try #require(ConfigFixtures.singleError(ConfigFixtures.minimal + "    max_cost: 25\n"))
        #expect(error.key == "jobs.nightly.max_cost")
        #expect(error.line == 20)
        #expect(error.column == 15)
        #expect(error.message.contains("needs `machine.hourly_rate`"))
        #expect(error.fix.contains("hourly_rate:"))
    }

    @Test func maxCostMustBePositive() throws {
        let error = try #require(ConfigFixtures.singleError(BudgetConfigTests.withRate + "    max_cost: 0\n"))
        #expect(error.key == "jobs.nightly.max_cost")
        #expect(error.message.contains("more than 0"))
    }

    @Test func warnAtSharesAreChecked() throws {
        let text = ConfigFixtures.minimal + "budget:\n  monthly_limit: 500\n  warn_at: [0.5, 1.5]\n"
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key.hasPrefix("budget.warn_at"))
        #expect(error.line == 22)
        #expect(error.message.contains("`1.5`"))
    }

    @Test func warnAtMustAscend() throws {
        let text = ConfigFixtures.minimal + "budget:\n  monthly_limit: 500\n  warn_at: [0.8, 0.5]\n"
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.message.contains("not above the one before it"))
    }

    @Test func customWarnAtIsKept() throws {
        let text = ConfigFixtures.minimal + "budget:\n  monthly_limit: 120.5\n  warn_at: [0.25, 0.9]\n"
        let budget = try #require(try ConfigFixtures.load(text).budget)
        #expect(budget.monthlyLimit == 120.5)
        #expect(budget.warnAt == [0.25, 0.9])
    }

    @Test func monthlyLimitIsRequired() throws {
        let text = ConfigFixtures.minimal + "budget:\n  warn_at: [0.5]\n"
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "budget.monthly_limit")
        #expect(error.line == 21)
    }

    @Test func monthlyLimitMustBePositive() throws {
        let text = ConfigFixtures.minimal + "budget:\n  monthly_limit: -5\n"
        let error = try #require(ConfigFixtures.singleError(text))
        #expect(error.key == "budget.monthly_limit")
        #expect(error.line == 21)
        #expect(error.column == 18)
    }

    @Test func sweepIntervalIsRead() throws {
        let text = ConfigFixtures.minimal(
            replacing: "  api_key: ${PAPERSPACE_API_KEY}\n",
            with: "  api_key: ${PAPERSPACE_API_KEY}\n  sweep_interval: 2m\n"
        )
        #expect(try ConfigFixtures.load(text).paperspace.sweepInterval == 120)
    }

    @Test func namePrefixRules() throws {
        for (prefix, valid) in [
            ("ns", true), ("ns2", true), ("team-a", true), ("ns-", false), ("ns--a", false), ("2ns", false),
            ("-ns", false), ("Ns", false),
        ] {
            let text = ConfigFixtures.minimal(
                replacing: "  api_key: ${PAPERSPACE_API_KEY}\n",
                with: "  api_key: ${PAPERSPACE_API_KEY}\n  name_prefix: \"\(prefix)\"\n"
            )
            if valid {
                #expect(try ConfigFixtures.load(text).paperspace.namePrefix == prefix)
            } else {
                let errors = ConfigFixtures.diagnostics(text).filter { $0.key == "paperspace.name_prefix" }
                #expect(errors.count == 1, "prefix \(prefix)")
            }
        }
    }
}
