internal import CCurl

extension HTTPClientError {
    /// The one place a libcurl result becomes an `HTTPClientError`. `detail` is libcurl's error
    /// buffer for the call (may be empty); it is redacted here: every string of `secrets` (the
    /// request's header values, the URL's user information, path and query) of 4 characters or
    /// more is cut out before it reaches a message (shorter ones would mangle it and hide nothing).
    /// `overflow` says the response sink refused data for being over a limit (libcurl then
    /// reports only a write error).
    static func mapping(
        _ code: CURLcode, detail: String, host: String, secrets: [String], overflow: String?
    ) -> HTTPClientError {
        if let overflow { return .tooLarge("\(host): \(overflow)") }
        var text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        for secret in secrets where secret.count >= 4 {
            text = text.replacing(secret, with: "[redacted]")
        }
        let message = "\(host): \(text)"
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .dns(message)
        case CURLE_COULDNT_CONNECT:
            return .connect(message)
        case CURLE_OPERATION_TIMEDOUT:
            return .timeout(message)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
            CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CLIENTCERT:
            return .tls(message)
        case CURLE_FILESIZE_EXCEEDED:
            return .tooLarge(message)
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
            return .invalidRequest(message)
        default:
            return .transport(message)
        }
    }
}
