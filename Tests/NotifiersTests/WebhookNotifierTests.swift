import Foundation
import HTTP
import Notifiers
import StandIns
import Support
import Testing

@Test func webhookBodyAndHeaders() throws {
    let receiver = try startReceiver(secret: webhookSecret)
    defer { receiver.stop() }
    let notifier = try WebhookNotifier(
        name: "ops",
        url: receiver.url(path: "/hooks/\(webhookPathToken)"),
        secret: webhookSecret,
        http: makeHTTP(LogCapture())
    )
    let before = Int(Date().timeIntervalSince1970)

    let receipt = try notifier.deliver(succeededNotification())

    #expect(receipt.status == 204)
    let delivery = try #require(receiver.deliveries.first)
    #expect(delivery.header("Content-Type") == "application/json")
    #expect(delivery.header("webhook-id") == "20271204-0300-ab12:run_succeeded")
    let timestamp = try #require(delivery.header("webhook-timestamp").flatMap { Int($0) })
    #expect(timestamp >= before)
    #expect(timestamp <= before + 5)
    #expect(delivery.header("webhook-signature")?.hasPrefix("v1,") == true)

    let body = try #require(delivery.jsonObject)
    #expect(body["type"] as? String == "run_succeeded")
    #expect(body["timestamp"] as? String == "2027-12-04T04:02:11Z")
    #expect(body["occurred_at"] as? String == "2027-12-04T04:02:11Z")
    #expect(body["event_id"] as? String == "20271204-0300-ab12:run_succeeded")
    #expect(body["job"] as? String == "weekly-train")
    #expect(body["duration_seconds"] as? Double == 3725)
    #expect(body["summary"] as? String == succeededNotification().summary)
    #expect(body["title"] as? String == "weekly-train succeeded")
    #expect(body["urgent"] as? Bool == false)

    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    #expect(try decoder.decode(RunNotification.self, from: delivery.body) == succeededNotification())
}

@Test func webhookSignatureVerifies() throws {
    let receiver = try startReceiver(secret: webhookSecret)
    defer { receiver.stop() }
    let notifier = try WebhookNotifier(
        name: "ops",
        url: receiver.url(path: "/hooks"),
        secret: webhookSecret,
        http: makeHTTP(LogCapture())
    )
    _ = try notifier.deliver(failedNotification())

    let delivery = try #require(receiver.deliveries.first)
    #expect(delivery.signatureValid == true)

    // The same delivery with one byte of the body changed does not verify.
    var tampered = delivery.body
    let index = try #require(tampered.firstIndex(of: UInt8(ascii: "w")))
    tampered[index] = UInt8(ascii: "W")
    #expect(
        !WebhookReceiver.verifySignature(
            secret: webhookSecret,
            id: delivery.header("webhook-id"),
            timestamp: delivery.header("webhook-timestamp"),
            signatureHeader: delivery.header("webhook-signature"),
            body: tampered
        )
    )
    // Nor does it with another id, another timestamp or another secret.
    #expect(
        !WebhookReceiver.verifySignature(
            secret: webhookSecret,
            id: "other",
            timestamp: delivery.header("webhook-timestamp"),
            signatureHeader: delivery.header("webhook-signature"),
            body: delivery.body
        )
    )
    let shifted = delivery.header("webhook-timestamp").flatMap { Int($0) }.map { String($0 + 1) }
    #expect(
        !WebhookReceiver.verifySignature(
            secret: webhookSecret,
            id: delivery.header("webhook-id"),
            timestamp: shifted,
            signatureHeader: delivery.header("webhook-signature"),
            body: delivery.body
        )
    )
    #expect(
        !WebhookReceiver.verifySignature(
            secret: "whsec_" + Data(Array("another-key-of-24-bytes!".utf8)).base64EncodedString(),
            id: delivery.header("webhook-id"),
            timestamp: delivery.header("webhook-timestamp"),
            signatureHeader: delivery.header("webhook-signature"),
            body: delivery.body
        )
    )
}

@Test func signerMatchesPublishedVector() throws {
    // The test vector that the Standard Webhooks reference libraries check against.
    let signer = try StandardWebhookSigner(secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", notifier: "t")
    let signature = signer.signature(
        id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp: 1_614_265_330,
        body: Data("{\"test\": 2432232314}".utf8)
    )
    #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
}

@Test func whsecSecretIsDecoded() throws {
    let body = Data("{\"a\":1}".utf8)
    let signed = try StandardWebhookSigner(secret: webhookSecret, notifier: "t").signature(
        id: "id1",
        timestamp: 100,
        body: body
    )
    let expected = Digest.hmacSHA256(key: webhookKey, message: Array("id1.100.".utf8) + Array(body))
    #expect(signed == "v1," + Data(expected).base64EncodedString())

    // Without the prefix, the text itself is the key.
    let raw = try StandardWebhookSigner(secret: "plain shared text", notifier: "t").signature(
        id: "id1",
        timestamp: 100,
        body: body
    )
    let rawExpected = Digest.hmacSHA256(
        key: Array("plain shared text".utf8),
        message: Array("id1.100.".utf8) + Array(body)
    )
    #expect(raw == "v1," + Data(rawExpected).base64EncodedString())

    // Padding may be left off.
    let unpadded = "whsec_" + Data(Array("12345".utf8)).base64EncodedString().replacingOccurrences(of: "=", with: "")
    let padded = "whsec_" + Data(Array("12345".utf8)).base64EncodedString()
    #expect(
        try StandardWebhookSigner(secret: unpadded, notifier: "t").signature(id: "i", timestamp: 1, body: body)
            == StandardWebhookSigner(secret: padded, notifier: "t").signature(id: "i", timestamp: 1, body: body)
    )
}

@Test func invalidSecretsAreRejected() throws {
    let http = makeHTTP(LogCapture())
    let invalid = "whsec_not*base64!!secretvalue"
    let error = try #require(throws: NotifierError.self) {
        try WebhookNotifier(name: "ops", url: "http://127.0.0.1:9/x", secret: invalid, http: http)
    }
    #expect(error.description.contains("not valid base64"))
    #expect(error.description.contains("notifier ops"))
    #expect(!error.description.contains("not*base64"))
    #expect(throws: NotifierError.self) {
        try WebhookNotifier(name: "ops", url: "http://127.0.0.1:9/x", secret: "", http: http)
    }
    #expect(throws: NotifierError.self) {
        try WebhookNotifier(name: "ops", url: "http://127.0.0.1:9/x", secret: "whsec_", http: http)
    }
}

@Test func staleTimestampFailsVerification() throws {
    let receiver = try startReceiver(secret: webhookSecret)
    defer { receiver.stop() }
    let notifier = try WebhookNotifier(
        name: "ops",
        url: receiver.url(path: "/hooks"),
        secret: webhookSecret,
        http: makeHTTP(LogCapture()),
        clock: { Date(timeIntervalSinceNow: -400) }
    )
    _ = try notifier.deliver(succeededNotification())
    let delivery = try #require(receiver.deliveries.first)
    #expect(delivery.signatureValid == false)
    // The signature itself is right: with the attempt's own time as "now" it verifies.
    let attemptTime = try #require(delivery.header("webhook-timestamp").flatMap { Double($0) })
    #expect(
        WebhookReceiver.verifySignature(
            secret: webhookSecret,
            id: delivery.header("webhook-id"),
            timestamp: delivery.header("webhook-timestamp"),
            signatureHeader: delivery.header("webhook-signature"),
            body: delivery.body,
            now: Date(timeIntervalSince1970: attemptTime + 10)
        )
    )
}

@Test func unsignedWebhookHasNoSignature() throws {
    let receiver = try startReceiver(secret: webhookSecret)
    defer { receiver.stop() }
    let notifier = try WebhookNotifier(
        name: "ops",
        url: receiver.url(path: "/hooks"),
        secret: nil,
        http: makeHTTP(LogCapture())
    )
    _ = try notifier.deliver(succeededNotification())
    let delivery = try #require(receiver.deliveries.first)
    #expect(delivery.header("webhook-signature") == nil)
    #expect(delivery.header("webhook-id") != nil)
    #expect(delivery.signatureValid == false)
}

@Test func webhookIdHasNoFullStop() throws {
    let notification = RunNotification(kind: .failed, job: "j", runId: "run.with.dots")
    #expect(WebhookNotifier.webhookId(for: notification) == "run_with_dots:run_failed")
}

@Test func webhookStatusClassification() throws {
    let receiver = try startReceiver()
    defer { receiver.stop() }
    let notifier = try WebhookNotifier(
        name: "ops",
        url: receiver.url(path: "/hooks/\(webhookPathToken)"),
        secret: webhookSecret,
        http: makeHTTP(LogCapture())
    )
    let cases: [(WebhookReply, Bool)] = [
        (.text(400, "bad"), false), (.text(401, "no"), false), (.text(404, "gone"), false),
        (.text(410, "gone"), false), (WebhookReply(status: 302, headers: [("Location", "/elsewhere")]), false),
        (.tooManyRequests(retryAfter: 3), true), (.serverError, true), (.text(503, "busy"), true),
    ]
    for (reply, retryable) in cases {
        receiver.respond(with: reply)
        let error = try #require(throws: NotifierError.self) { try notifier.deliver(succeededNotification()) }
        #expect(error.isRetryable == retryable, "HTTP \(reply.status)")
        #expect(error.status == reply.status, "HTTP \(reply.status)")
        #expect(!error.description.contains(webhookPathToken), "HTTP \(reply.status)")
    }
    receiver.respond(with: .text(202, "queued"))
    #expect(try notifier.deliver(succeededNotification()) == DeliveryReceipt(status: 202, responseSnippet: "queued"))
}

@Test func webhookServerErrorRetried() throws {
    let receiver = try startReceiver(secret: webhookSecret)
    defer { receiver.stop() }
    let capture = LogCapture()
    let notifier = try WebhookNotifier(
        name: "ops",
        url: receiver.url(path: "/hooks"),
        secret: webhookSecret,
        http: makeHTTP(capture)
    )
    let dispatcher = NotificationDispatcher(
        notifiers: [(notifier, Set(RunEventKind.allCases))],
        logger: makeLogger(capture),
        retry: fastRetry(attempts: 4)
    )
    receiver.respond(with: .serverError, times: 2)

    dispatcher.enqueue(failedNotification())

    #expect(dispatcher.flush(timeout: 5))
    let deliveries = receiver.deliveries
    #expect(deliveries.map(\.responseStatus) == [500, 500, 204])
    #expect(deliveries.allSatisfy { $0.signatureValid == true })
    #expect(Set(deliveries.compactMap { $0.header("webhook-id") }) == ["20271204-0300-ab12:run_failed"])
    #expect(capture.records.filter { $0.message == "Notification delivery failed, retrying" }.count == 2)
    let delivered = capture.records.first { $0.message == "Notification delivered" }
    #expect(delivered?.metadata["delivery.attempt"] == "3")
}
