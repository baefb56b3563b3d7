import Foundation
import Support

/// A byte range of a local file, sent as a request body without loading it into memory.
public struct HTTPFileRegion: Sendable, Equatable {
    public var path: String
    public var offset: Int64
    public var length: Int64

    public init(path: String, offset: Int64 = 0, length: Int64) {
        self.path = path
        self.offset = offset
        self.length = length
    }
}

/// A local file that receives a response body, for downloads larger than memory and for `Range` resumes.
///
/// A 206 response is written from `resumeOffset`, so a request with `Range: bytes=<resumeOffset>-` appends to the
/// file. A 200 response truncates the file and is written from offset 0, because the server sent the whole
/// content. Bodies of any other status stay in memory, so that error messages and redirects can still be read.
public struct HTTPResponseFile: Sendable, Equatable {
    public var path: String
    public var resumeOffset: Int64

    public init(path: String, resumeOffset: Int64 = 0) {
        self.path = path
        self.resumeOffset = resumeOffset
    }
}

/// Streaming options for `HTTPClient.transfer`.
public struct HTTPTransfer: Sendable {
    /// The request body, read from this file region; it replaces `HTTPClientRequest.body`.
    public var upload: HTTPFileRegion?
    /// Where a 200 or 206 response body is written.
    public var download: HTTPResponseFile?
    /// Called with the body bytes sent (uploads) or received (downloads) so far in the current attempt, at most
    /// a few times per second and from the calling thread.
    public var progress: (@Sendable (Int64) -> Void)?
    /// Aborts the transfer, within about a second, once raised.
    public var cancel: Signal?
    /// The transfer fails when it moves less than one byte per second for this many seconds. Streaming
    /// transfers have no total timeout, because a large file on a slow link may take hours.
    public var stallTimeout: Double

    public init(
        upload: HTTPFileRegion? = nil,
        download: HTTPResponseFile? = nil,
        progress: (@Sendable (Int64) -> Void)? = nil,
        cancel: Signal? = nil,
        stallTimeout: Double = 60
    ) {
        self.upload = upload
        self.download = download
        self.progress = progress
        self.cancel = cancel
        self.stallTimeout = stallTimeout
    }
}

/// The result of `HTTPClient.transfer`.
public struct HTTPTransferResponse: Sendable {
    /// The status and headers; `body` is empty when the body went to the download file.
    public var response: HTTPClientResponse
    /// The file offset where the body was written: the resume offset for 206, 0 for 200.
    public var fileStart: Int64
    /// The number of body bytes written to the download file.
    public var fileBytesWritten: Int64

    public init(response: HTTPClientResponse, fileStart: Int64, fileBytesWritten: Int64) {
        self.response = response
        self.fileStart = fileStart
        self.fileBytesWritten = fileBytesWritten
    }
}

extension HTTPClient {
    /// The maximum size of a response body held in memory. A larger body fails the request as a transport
    /// error; stream it to a file with `transfer` instead.
    public static let maxInMemoryBodySize = 256 * 1024 * 1024

    /// Sends `request` with its body streamed from a file region and its response body streamed to a file, as
    /// `transfer` says, retrying as `retry` allows with the semantics of `send`.
    ///
    /// Every attempt re-reads the upload region from its start. A download attempt writes from the same
    /// `resumeOffset` again, so callers that want to resume from the bytes already received call this with
    /// `RetryPolicy.never` in their own loop and move the offset and the `Range` header forward. The request
    /// carries `Content-Length` and neither `Expect: 100-continue` nor chunked encoding, and asks for an
    /// uncompressed body so that file offsets match content offsets.
    public func transfer(_ request: HTTPClientRequest, _ transfer: HTTPTransfer, retry: RetryPolicy = .standard)
        throws -> HTTPTransferResponse
    {
        try self.retrying(request, retry: retry, cancel: transfer.cancel) {
            try self.perform(request, transfer: transfer)
        }
    }
}
