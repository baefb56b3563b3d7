import Foundation
import HTTP
import Support

/// The reason one create attempt failed, and what it allows the caller to do next.
struct CreateFailure {
    var error: PaperspaceError
    /// The request may have been carried out although no usable response arrived: a transport error, 429, 5xx,
    /// or a success status with a body that could not be read.
    var mayHaveLanded: Bool
    /// Another attempt may succeed, once a lookup has shown that this one did not land.
    var retryable: Bool
    /// The server's `Retry-After`, in seconds.
    var retryAfter: Double?
}

enum CreateOutcome<Resource> {
    case created(Resource)
    case failed(CreateFailure)
}

extension PaperspaceClient {
    /// Sends `call` exactly once with `RetryPolicy.never` and decodes a success with `decode`.
    func postOnce<Resource>(
        _ call: APICall,
        decode: (HTTPClientResponse) throws -> Resource
    ) -> CreateOutcome<Resource> {
        let response: HTTPClientResponse
        do {
            response = try self.send(call, retry: .never)
        } catch let error as PaperspaceError {
            let isTransport: Bool
            if case .transport = error { isTransport = true } else { isTransport = false }
            return .failed(CreateFailure(error: error, mayHaveLanded: isTransport, retryable: isTransport))
        } catch {
            let wrapped = PaperspaceError.invalidRequest(operation: call.operation, detail: "\(error)")
            return .failed(CreateFailure(error: wrapped, mayHaveLanded: false, retryable: false))
        }
        if response.isSuccess {
            do {
                return .created(try decode(response))
            } catch {
                let wrapped =
                    error as? PaperspaceError
                    ?? PaperspaceError.invalidResponse(operation: call.operation, detail: "\(error)")
                // A success status means the create happened, so only a lookup may follow, never another post.
                return .failed(CreateFailure(error: wrapped, mayHaveLanded: true, retryable: false))
            }
        }
        let retryable = response.status == 429 || response.status >= 500
        return .failed(
            CreateFailure(
                error: self.apiError(call.operation, response),
                mayHaveLanded: retryable,
                retryable: retryable,
                retryAfter: parseRetryAfter(response.header("Retry-After"))
            )
        )
    }

    /// Runs `post` until a resource named `name` exists, without ever creating a second one by retrying.
    ///
    /// With `lookUpFirst`, an existing resource is adopted before anything is posted. After a failed post that
    /// may have landed, `lookUp` runs at once. When it finds nothing and the failure is retryable, the client
    /// waits with the retry policy's backoff, looks up again and posts again, up to `retry.maxAttempts` posts.
    /// A lookup that throws ends the loop with its error, because posting without a lookup could duplicate.
    func createWithoutDuplicates<Resource>(
        kind: String,
        name: String,
        lookUpFirst: Bool,
        metadata: Logger.Metadata,
        lookUp: () throws -> Resource?,
        post: () -> CreateOutcome<Resource>
    ) throws -> (resource: Resource, created: Bool) {
        let maxPosts = max(1, self.retry.maxAttempts)
        var posts = 0
        var context = metadata
        context["resource.kind"] = kind
        while true {
            if lookUpFirst || posts > 0, let existing = try lookUp() {
                if posts == 0 {
                    self.logger.info("Adopting an existing resource with the requested name", metadata: context)
                } else {
                    self.logger.notice("Adopting a resource whose create response was lost", metadata: context)
                }
                return (existing, posts > 0)
            }
            posts += 1
            let failure: CreateFailure
            switch post() {
            case .created(let resource):
                return (resource, true)
            case .failed(let reason):
                failure = reason
            }
            var failureContext = context
            failureContext["error"] = failure.error.description
            failureContext["create.attempt"] = "\(posts)"
            self.logger.warning("Create request failed", metadata: failureContext)
            if failure.mayHaveLanded, let landed = try lookUp() {
                self.logger.notice("Adopting a resource whose create response was lost", metadata: context)
                return (landed, true)
            }
            guard failure.retryable, posts < maxPosts else {
                throw failure.error
            }
            let delay = self.retry.delay(beforeRetry: posts, retryAfter: failure.retryAfter)
            failureContext["retry.delay_s"] = String(format: "%.2f", delay)
            self.logger.warning(
                "No resource with the requested name exists; creating it again",
                metadata: failureContext
            )
            _ = self.http.sleep(delay, nil)
        }
    }
}
