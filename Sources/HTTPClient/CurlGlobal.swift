internal import CCurl

/// `curl_global_init` runs once per process, before the first handle: a Swift global's
/// initialiser runs exactly once, thread-safely (swift_once), whichever thread gets there first.
/// It is never undone: `curl_global_cleanup` at exit would race threads still holding clients.
enum CurlGlobal {
    /// The result of the one `curl_global_init`.
    static let initResult: CURLcode = bedrock_curl_global_init()
}
