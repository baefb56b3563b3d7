import Foundation
import Testing

@testable import StandIns

private func request(
    _ path: String,
    query: String = "",
    json: Any? = nil,
    body: Data? = nil,
    headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
) -> HTTPRequest {
    let data = body ?? json.map { try! JSONSerialization.data(withJSONObject: $0) } ?? Data()
    return HTTPRequest(method: "POST", rawPath: path, rawQuery: query, headers: headers, body: data)
}

private func status(_ response: HTTPResponse?) -> Int {
    response?.status ?? 200
}

@Test func discordRulesEnforceLimits() {
    let rules = DiscordWebhookRules()
    let path = "/api/webhooks/\(rules.webhookId)/\(rules.token)"
    let field = { (value: String) in ["name": "n", "value": value] }
    #expect(status(rules.check(request(path, json: ["content": String(repeating: "é", count: 2000)]))) == 200)
    #expect(status(rules.check(request(path, json: ["content": String(repeating: "x", count: 2001)]))) == 400)
    #expect(status(rules.check(request(path, json: ["content": ""]))) == 400)
    #expect(
        status(rules.check(request(path, json: ["embeds": [["fields": [field(String(repeating: "v", count: 1025))]]]])))
            == 400
    )
    #expect(status(rules.check(request(path, json: ["embeds": [["fields": [field("")]]]]))) == 400)
    let big = ["description": String(repeating: "d", count: 4000)]
    #expect(status(rules.check(request(path, json: ["embeds": [big]]))) == 200)
    #expect(status(rules.check(request(path, json: ["embeds": [big, big]]))) == 400)
    #expect(status(rules.check(request("/api/webhooks/1/other", json: ["content": "x"]))) == 404)
}

@Test func discordRulesAnswerLikeDiscord() throws {
    let rules = DiscordWebhookRules()
    let path = "/api/webhooks/\(rules.webhookId)/\(rules.token)"
    #expect(rules.success(for: request(path, json: ["content": "x"])).status == 204)
    #expect(rules.success(for: request(path, query: "wait=true", json: ["content": "x"])).status == 200)
    let limited = rules.rateLimited(retryAfter: 1.25)
    #expect(limited.status == 429)
    #expect(limited.headers.first { $0.name == "Retry-After" }?.value == "2")
    let json = try #require(try JSONSerialization.jsonObject(with: limited.body) as? [String: Any])
    #expect(json["retry_after"] as? Double == 1.25)
}

@Test func telegramRulesParseMarkup() {
    #expect({ if case .success("a *b* c") = TelegramBotRules.parseMarkdownV2("a \\*b\\* c") { true } else { false } }())
    #expect({ if case .success("bold") = TelegramBotRules.parseMarkdownV2("*bold*") { true } else { false } }())
    #expect({ if case .failure = TelegramBotRules.parseMarkdownV2("*open") { true } else { false } }())
    #expect({ if case .failure = TelegramBotRules.parseMarkdownV2("1.5") { true } else { false } }())
    #expect({ if case .success("x & y") = TelegramBotRules.parseHTML("<b>x</b> &amp; y") { true } else { false } }())
    #expect({ if case .failure = TelegramBotRules.parseHTML("<b>x") { true } else { false } }())
    #expect({ if case .failure = TelegramBotRules.parseHTML("<script>x</script>") { true } else { false } }())
    #expect({ if case .failure = TelegramBotRules.parseHTML("fish & chips") { true } else { false } }())
}

@Test func telegramRulesCountParsedText() {
    let rules = TelegramBotRules()
    let path = "/bot\(rules.token)/sendMessage"
    func send(_ text: String, mode: String = "HTML") -> Int {
        status(rules.check(request(path, json: ["chat_id": -1_001_234_567_890, "text": text, "parse_mode": mode])))
    }
    // Entities count once after parsing, so 4096 `&amp;` are within the limit.
    #expect(send(String(repeating: "&amp;", count: 4096)) == 200)
    #expect(send(String(repeating: "🚀", count: 4096)) == 200)
    #expect(send(String(repeating: "🚀", count: 4097)) == 400)
    #expect(send("   ") == 400)
    #expect(send("a-b", mode: "MarkdownV2") == 400)
    #expect(status(rules.check(request("/botWRONG/sendMessage", json: ["chat_id": 1, "text": "x"]))) == 401)
    #expect(status(rules.check(request(path, json: ["chat_id": 42, "text": "x"]))) == 400)
}

@Test func teamsRulesRejectMessageCard() {
    let rules = TeamsWorkflowRules()
    let card: [String: Any] = [
        "type": "message",
        "attachments": [
            [
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": ["type": "AdaptiveCard", "version": "1.4", "body": [["type": "TextBlock", "text": "x"]]],
            ]
        ],
    ]
    let query = "sig=\(rules.signature)"
    #expect(status(rules.check(request("/workflows/x", query: query, json: card))) == 200)
    let legacy: [String: Any] = ["@type": "MessageCard", "@context": "https://schema.org/extensions", "text": "x"]
    let rejected = rules.check(request("/workflows/x", query: query, json: legacy))
    #expect(rejected?.status == 400)
    let reason = String(decoding: rejected.map(\.body) ?? Data(), as: UTF8.self)
    #expect(reason.contains("must be 'AdaptiveCard'"))
    #expect(status(rules.check(request("/workflows/x", query: "sig=bad", json: card))) == 401)
    let huge = request("/workflows/x", query: query, body: Data(repeating: 0x20, count: 30_000))
    #expect(status(rules.check(huge)) == 413)
    #expect(rules.success(for: request("/workflows/x")).status == 202)
}

@Test func mattermostRulesCheckText() {
    let rules = MattermostWebhookRules(maxPostLength: 4000)
    let path = "/hooks/\(rules.key)"
    #expect(status(rules.check(request(path, json: ["text": String(repeating: "x", count: 4000)]))) == 200)
    #expect(status(rules.check(request(path, json: ["text": String(repeating: "x", count: 4001)]))) == 400)
    #expect(status(rules.check(request(path, json: ["channel": "x"]))) == 400)
    #expect(status(rules.check(request("/hooks/other", json: ["text": "x"]))) == 400)
    let form = request(
        path,
        body: Data("payload=%7B%22text%22%3A%22hi%22%7D".utf8),
        headers: [("Content-Type", "application/x-www-form-urlencoded")]
    )
    #expect(status(rules.check(form)) == 200)
    #expect(String(decoding: rules.success(for: form).body, as: UTF8.self) == "ok")
}

@Test func ntfyRulesCheckAuthAndSize() {
    let rules = NtfyRules(token: "tk_abc")
    let auth = [("Content-Type", "application/json"), ("Authorization", "Bearer tk_abc")]
    #expect(status(rules.check(request("/", json: ["topic": "alerts", "message": "x"], headers: auth))) == 200)
    #expect(status(rules.check(request("/", json: ["topic": "alerts", "message": "x"]))) == 403)
    let wrong = [("Authorization", "Bearer tk_other")]
    #expect(status(rules.check(request("/", json: ["topic": "alerts", "message": "x"], headers: wrong))) == 401)
    let long = ["topic": "alerts", "message": String(repeating: "é", count: 2049)]
    #expect(status(rules.check(request("/", json: long, headers: auth))) == 413)
    #expect(status(rules.check(request("/", json: ["topic": "bad topic!", "message": "x"], headers: auth))) == 400)
    #expect(
        status(rules.check(request("/", json: ["topic": "a", "message": "x", "priority": 6], headers: auth))) == 400
    )
    let raw = request("/alerts", body: Data("hi".utf8), headers: auth + [("X-Priority", "4"), ("X-Tags", "a,b")])
    #expect(status(rules.check(raw)) == 200)
}

@Test func receiverRecordsFaultsAndDelay() throws {
    let receiver = ChatServiceReceiver(rules: MattermostWebhookRules())
    try receiver.start()
    defer { receiver.stop() }
    receiver.respond(with: [.rateLimited(retryAfter: 3), .serverError, .slow(seconds: 0.3)])
    let url = URL(string: MattermostWebhookRules().url(on: receiver))!
    var statuses: [Int] = []
    var elapsed: [Double] = []
    for _ in 0..<4 {
        let started = Date()
        statuses.append(try postWithSocket(url: url, body: #"{"text":"hi"}"#))
        elapsed.append(Date().timeIntervalSince(started))
    }
    #expect(statuses == [429, 500, 200, 200])
    #expect(elapsed[2] >= 0.3)
    #expect(receiver.requests.count == 4)
    #expect(receiver.accepted.count == 2)
}

/// Sends one HTTP/1.1 POST over a plain socket to a loopback URL and returns the status code.
private func postWithSocket(url: URL, body: String) throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(url.port!).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else { throw StandInError.socket("connect", errno) }
    let text =
        "POST \(url.path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
    _ = sendAll(descriptor, Data(text.utf8))
    var buffer = [UInt8](repeating: 0, count: 4096)
    let count = recv(descriptor, &buffer, buffer.count, 0)
    let head = String(decoding: buffer.prefix(max(0, count)), as: UTF8.self)
    return Int(head.split(separator: " ").dropFirst().first ?? "") ?? -1
}
