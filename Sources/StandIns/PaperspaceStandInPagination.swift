import Foundation

/// A value that list items are ordered by.
enum PageSortValue: Comparable {
    case number(Int)
    case text(String)
}

/// The cursor parameters of a list request: `after`, `limit`, `orderBy` and `order`.
///
/// A cursor (`nextPage`) stores the order and the sort value and sequence number of the last item returned, so
/// the next page starts right after that item even when items were added or deleted in between.
struct PageQuery {
    var limit: Int
    var orderBy: String
    var ascending: Bool
    var after: (value: PageSortValue, sequence: Int)?

    static let maxLimit = 120

    /// Reads the query parameters, raising 400 BAD_REQUEST for a limit outside 1...120, an unknown `orderBy` or
    /// `order`, or a cursor that this list did not issue.
    init(_ request: HTTPRequest, orderByChoices: [String], defaultLimit: Int) throws {
        if let text = request.queryValue("limit") {
            guard let limit = Int(text), (1...PageQuery.maxLimit).contains(limit) else {
                throw PaperspaceAPIError.badRequest(
                    "Invalid input: `limit` must be an integer from 1 to \(PageQuery.maxLimit), got \"\(text)\"."
                )
            }
            self.limit = limit
        } else {
            self.limit = defaultLimit
        }
        let orderBy = request.queryValue("orderBy") ?? "dtCreated"
        guard orderByChoices.contains(orderBy) else {
            throw PaperspaceAPIError.badRequest(
                "Invalid input: `orderBy` must be one of \(orderByChoices.joined(separator: ", ")), got \"\(orderBy)\"."
            )
        }
        self.orderBy = orderBy
        let order = request.queryValue("order") ?? "desc"
        guard order == "asc" || order == "desc" else {
            throw PaperspaceAPIError.badRequest("Invalid input: `order` must be asc or desc, got \"\(order)\".")
        }
        self.ascending = order == "asc"
        if let cursor = request.queryValue("after"), !cursor.isEmpty {
            guard let position = PageQuery.decode(cursor, orderBy: orderBy, ascending: self.ascending) else {
                throw PaperspaceAPIError.badRequest(
                    "Invalid input: `after` is not a cursor of this list with orderBy=\(orderBy)&order=\(order)."
                )
            }
            self.after = position
        }
    }

    /// Returns one page, `{hasMore, items, nextPage}`, of `items` in this query's order.
    func page<Item>(
        _ items: [Item],
        sortValue: (Item, String) -> PageSortValue,
        sequence: (Item) -> Int,
        json: (Item) -> Any
    ) -> [String: Any] {
        func precedes(_ lhs: (PageSortValue, Int), _ rhs: (PageSortValue, Int)) -> Bool {
            let ordered = lhs.0 != rhs.0 ? lhs.0 < rhs.0 : lhs.1 < rhs.1
            return self.ascending ? ordered : (lhs.0 != rhs.0 ? lhs.0 > rhs.0 : lhs.1 > rhs.1)
        }
        let keyed = items.map { (item: $0, key: (sortValue($0, self.orderBy), sequence($0))) }
        var sorted = keyed.sorted { precedes($0.key, $1.key) }
        if let after = self.after {
            sorted = sorted.filter { precedes((after.value, after.sequence), $0.key) }
        }
        let pageItems = Array(sorted.prefix(self.limit))
        let hasMore = sorted.count > pageItems.count
        var nextPage: Any = NSNull()
        if hasMore, let last = pageItems.last {
            nextPage = PageQuery.encode(
                last.key.0,
                sequence: last.key.1,
                orderBy: self.orderBy,
                ascending: self.ascending
            )
        }
        return ["hasMore": hasMore, "items": pageItems.map { json($0.item) }, "nextPage": nextPage]
    }

    private static func encode(_ value: PageSortValue, sequence: Int, orderBy: String, ascending: Bool) -> String {
        let valueText: String
        switch value {
        case .number(let number): valueText = "n\(number)"
        case .text(let text): valueText = "t" + text
        }
        let plain = "\(orderBy)\n\(ascending ? "asc" : "desc")\n\(sequence)\n\(valueText)"
        return Data(plain.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static func decode(_ cursor: String, orderBy: String, ascending: Bool)
        -> (value: PageSortValue, sequence: Int)?
    {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let plain = String(data: data, encoding: .utf8) else {
            return nil
        }
        let parts = plain.split(separator: "\n", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, parts[0] == orderBy, parts[1] == (ascending ? "asc" : "desc"),
            let sequence = Int(parts[2]), let kind = parts[3].first
        else {
            return nil
        }
        let rest = String(parts[3].dropFirst())
        switch kind {
        case "n":
            guard let number = Int(rest) else { return nil }
            return (.number(number), sequence)
        case "t":
            return (.text(rest), sequence)
        default:
            return nil
        }
    }
}
