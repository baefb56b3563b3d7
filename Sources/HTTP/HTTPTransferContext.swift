import CCurl
import Foundation
import Support

/// The state libcurl's callbacks share during one attempt: response headers, the in-memory body, and the files
/// of a streaming transfer. Only the thread running `curl_easy_perform` touches it.
final class HTTPTransferContext {
    let handle: UnsafeMutableRawPointer
    var headers: [(name: String, value: String)] = []
    var body = Data()
    var bodyLimitExceeded = false
    /// The reason a callback stopped the transfer, reported in place of libcurl's generic message.
    var failure: String?

    let uploadDescriptor: Int32
    let uploadRegion: HTTPFileRegion?
    var uploadPosition: Int64 = 0

    let downloadDescriptor: Int32
    let download: HTTPResponseFile?
    /// The target of the current response's body bytes: nil until the first byte, then true for the file and
    /// false for memory.
    var writesToFile: Bool?
    var filePosition: Int64 = 0
    var fileStart: Int64 = 0
    var fileBytesWritten: Int64 = 0

    let progress: (@Sendable (Int64) -> Void)?
    let cancel: Signal?
    var lastProgress: Int64 = -1

    init(handle: UnsafeMutableRawPointer, transfer: HTTPTransfer?) throws {
        self.handle = handle
        self.uploadRegion = transfer?.upload
        self.download = transfer?.download
        self.progress = transfer?.progress
        self.cancel = transfer?.cancel
        if let region = transfer?.upload {
            let descriptor = open(region.path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw HTTPTransferContext.fileError("open \(region.path) for reading", errno)
            }
            self.uploadDescriptor = descriptor
        } else {
            self.uploadDescriptor = -1
        }
        if let download = transfer?.download {
            // O_NOFOLLOW: a symbolic link planted at the partial file's name is not written through.
            let descriptor = open(download.path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
            guard descriptor >= 0 else {
                let code = errno
                if self.uploadDescriptor >= 0 { close(self.uploadDescriptor) }
                throw HTTPTransferContext.fileError("open \(download.path) for writing", code)
            }
            self.downloadDescriptor = descriptor
        } else {
            self.downloadDescriptor = -1
        }
    }

    deinit {
        if self.uploadDescriptor >= 0 { close(self.uploadDescriptor) }
        if self.downloadDescriptor >= 0 { close(self.downloadDescriptor) }
    }

    static func fileError(_ action: String, _ code: Int32) -> HTTPClientError {
        .transport(method: "FILE", url: action, code: -2, message: String(cString: strerror(code)))
    }

    func appendHeaderLine(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("HTTP/") {
            // A new status line starts a new response (after a redirect or a 100 Continue).
            self.headers = []
            self.writesToFile = nil
            return
        }
        guard let colon = trimmed.firstIndex(of: ":") else { return }
        let name = String(trimmed[..<colon]).trimmingCharacters(in: .whitespaces)
        let value = String(trimmed[trimmed.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        self.headers.append((name, value))
    }

    /// Stores body bytes; returns false to make libcurl abort the transfer.
    func appendBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if self.writesToFile == nil {
            self.writesToFile = self.chooseBodyTarget()
            // A download file that cannot be truncated must fail the transfer, not divert the body to memory.
            if self.failure != nil { return false }
        }
        guard self.writesToFile == true else {
            guard self.body.count + bytes.count <= HTTPClient.maxInMemoryBodySize else {
                self.bodyLimitExceeded = true
                self.failure = "the response body exceeds \(HTTPClient.maxInMemoryBodySize) bytes"
                return false
            }
            self.body.append(contentsOf: bytes)
            return true
        }
        var offset = 0
        while offset < bytes.count {
            let written = pwrite(
                self.downloadDescriptor,
                bytes.baseAddress! + offset,
                bytes.count - offset,
                off_t(self.filePosition)
            )
            if written < 0 {
                if errno == EINTR { continue }
                self.failure = "writing \(self.download?.path ?? "") failed: \(String(cString: strerror(errno)))"
                return false
            }
            offset += written
            self.filePosition += Int64(written)
            self.fileBytesWritten += Int64(written)
        }
        return true
    }

    /// Decides, at the first body byte, whether this response's body goes to the download file.
    private func chooseBodyTarget() -> Bool {
        guard let download = self.download else { return false }
        var status = 0
        nightshift_curl_getinfo_long(self.handle, CURLINFO_RESPONSE_CODE, &status)
        switch status {
        case 206:
            self.fileStart = download.resumeOffset
        case 200:
            self.fileStart = 0
        default:
            return false
        }
        // Bytes past the start belong to an earlier attempt and would otherwise survive a shorter body.
        guard ftruncate(self.downloadDescriptor, off_t(self.fileStart)) == 0 else {
            self.failure = "truncating \(download.path) failed: \(String(cString: strerror(errno)))"
            return false
        }
        self.filePosition = self.fileStart
        return true
    }

    /// Fills `buffer` from the upload region; returns the byte count, 0 at the end, or `CURL_READFUNC_ABORT`.
    func readUpload(into buffer: UnsafeMutableRawPointer, capacity: Int) -> Int {
        guard let region = self.uploadRegion else { return 0 }
        let wanted = Int(min(Int64(capacity), region.length - self.uploadPosition))
        guard wanted > 0 else { return 0 }
        while true {
            let count = pread(self.uploadDescriptor, buffer, wanted, off_t(region.offset + self.uploadPosition))
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                // The file shrank or failed to read; sending fewer bytes than Content-Length would corrupt it.
                let reason = count < 0 ? String(cString: strerror(errno)) : "the file ended early"
                self.failure = "reading \(region.path) failed: \(reason)"
                return Int(CURL_READFUNC_ABORT)
            }
            self.uploadPosition += Int64(count)
            return count
        }
    }

    /// Reports progress; returns false when the transfer should stop because `cancel` was raised.
    func reportProgress(downloaded: Int64, uploaded: Int64) -> Bool {
        if let progress = self.progress {
            let now = self.uploadRegion != nil ? uploaded : downloaded
            if now != self.lastProgress {
                self.lastProgress = now
                progress(now)
            }
        }
        if self.cancel?.isRaised == true {
            self.failure = "cancelled"
            return false
        }
        return true
    }
}

extension HTTPClient {
    /// Performs one attempt of `request`, streaming its body and response as `transfer` specifies when it is set.
    func perform(_ request: HTTPClientRequest, transfer: HTTPTransfer?) throws -> HTTPTransferResponse {
        guard let handle = curl_easy_init() else {
            throw HTTPClientError.transport(
                method: request.method,
                url: request.displayURL,
                code: -1,
                message: "curl_easy_init failed"
            )
        }
        defer { curl_easy_cleanup(handle) }

        let context = try HTTPTransferContext(handle: handle, transfer: transfer)
        let unmanaged = Unmanaged.passRetained(context)
        defer { unmanaged.release() }
        let opaque = unmanaged.toOpaque()

        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        for header in request.headers {
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        // libcurl adds `Expect: 100-continue` to large bodies; an empty value turns it off.
        headerList = curl_slist_append(headerList, "Expect:")
        defer { curl_slist_free_all(headerList) }

        nightshift_curl_setopt_string(handle, CURLOPT_URL, request.url)
        nightshift_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        nightshift_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1)
        nightshift_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2)
        nightshift_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(self.connectTimeout * 1000))
        nightshift_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1 : 0)
        nightshift_curl_setopt_long(handle, CURLOPT_MAXREDIRS, 10)
        nightshift_curl_setopt_string(handle, CURLOPT_USERAGENT, self.userAgent)
        nightshift_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
        nightshift_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, opaque)
        nightshift_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, opaque)
        nightshift_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, transferWriteBody)
        nightshift_curl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, transferWriteHeader)

        if let transfer {
            // Uncompressed bodies keep file offsets equal to content offsets, which `Range` resumes rely on.
            nightshift_curl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, "identity")
            nightshift_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, 0)
            nightshift_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
            nightshift_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, max(1, Int(transfer.stallTimeout)))
            nightshift_curl_setopt_long(handle, CURLOPT_BUFFERSIZE, 512 * 1024)
            nightshift_curl_setopt_long(handle, CURLOPT_UPLOAD_BUFFERSIZE, 512 * 1024)
            nightshift_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
            nightshift_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, opaque)
            nightshift_curl_setopt_progress_callback(handle, transferProgress)
        } else {
            nightshift_curl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, "")
            nightshift_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(self.totalTimeout * 1000))
        }

        if let region = transfer?.upload {
            // UPLOAD with a known size sends Content-Length, never chunked encoding; CUSTOMREQUEST sets the verb.
            nightshift_curl_setopt_long(handle, CURLOPT_UPLOAD, 1)
            nightshift_curl_setopt_offset(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(region.length))
            nightshift_curl_setopt_pointer(handle, CURLOPT_READDATA, opaque)
            nightshift_curl_setopt_data_callback(handle, CURLOPT_READFUNCTION, transferReadBody)
            nightshift_curl_setopt_pointer(handle, CURLOPT_SEEKDATA, opaque)
            nightshift_curl_setopt_seek_callback(handle, transferSeek)
            if request.method != "PUT" {
                nightshift_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
            }
        } else {
            switch request.method {
            case "GET":
                nightshift_curl_setopt_long(handle, CURLOPT_HTTPGET, 1)
            case "HEAD":
                nightshift_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
            default:
                nightshift_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
            }
            let body = request.body ?? (["POST", "PUT"].contains(request.method) ? Data() : nil)
            if let body {
                // COPYPOSTFIELDS makes libcurl keep its own copy, so the Swift buffer may go away after this call.
                nightshift_curl_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                body.withUnsafeBytes { buffer in
                    let pointer = buffer.baseAddress?.assumingMemoryBound(to: CChar.self)
                    _ = nightshift_curl_setopt_pointer(
                        handle,
                        CURLOPT_COPYPOSTFIELDS,
                        UnsafeMutableRawPointer(mutating: pointer ?? UnsafePointer<CChar>(bitPattern: 1))
                    )
                }
            }
        }

        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else {
            if code == CURLE_ABORTED_BY_CALLBACK && context.failure == "cancelled" {
                throw HTTPClientError.cancelled(method: request.method, url: request.displayURL)
            }
            let message = context.failure ?? String(cString: curl_easy_strerror(code))
            throw HTTPClientError.transport(
                method: request.method,
                url: request.displayURL,
                code: Int(code.rawValue),
                message: message
            )
        }
        var status = 0
        nightshift_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        let response = HTTPClientResponse(status: status, headers: context.headers, body: context.body)
        return HTTPTransferResponse(
            response: response,
            fileStart: context.fileStart,
            fileBytesWritten: context.fileBytesWritten
        )
    }
}

private func transferContext(_ pointer: UnsafeMutableRawPointer) -> HTTPTransferContext {
    Unmanaged<HTTPTransferContext>.fromOpaque(pointer).takeUnretainedValue()
}

private let transferWriteBody: nightshift_curl_data_callback = { buffer, size, count, context in
    guard let buffer, let context else { return 0 }
    let total = size * count
    let stored = transferContext(context).appendBody(UnsafeRawBufferPointer(start: buffer, count: total))
    return stored ? total : 0
}

private let transferWriteHeader: nightshift_curl_data_callback = { buffer, size, count, context in
    guard let buffer, let context else { return 0 }
    let total = size * count
    let line = buffer.withMemoryRebound(to: UInt8.self, capacity: total) { bytes in
        String(decoding: UnsafeBufferPointer(start: bytes, count: total), as: UTF8.self)
    }
    transferContext(context).appendHeaderLine(line)
    return total
}

private let transferReadBody: nightshift_curl_data_callback = { buffer, size, count, context in
    guard let buffer, let context else { return Int(CURL_READFUNC_ABORT) }
    return transferContext(context).readUpload(into: buffer, capacity: size * count)
}

/// Rewinds the upload region when libcurl must send the body again, for example after a redirect.
private let transferSeek: nightshift_curl_seek_callback = { context, offset, origin in
    guard let context, origin == SEEK_SET else { return Int32(CURL_SEEKFUNC_CANTSEEK) }
    let state = transferContext(context)
    guard let region = state.uploadRegion, offset >= 0, Int64(offset) <= region.length else {
        return Int32(CURL_SEEKFUNC_FAIL)
    }
    state.uploadPosition = Int64(offset)
    return Int32(CURL_SEEKFUNC_OK)
}

private let transferProgress: nightshift_curl_progress_callback = { context, _, downloaded, _, uploaded in
    guard let context else { return 0 }
    return transferContext(context).reportProgress(downloaded: Int64(downloaded), uploaded: Int64(uploaded)) ? 0 : 1
}
