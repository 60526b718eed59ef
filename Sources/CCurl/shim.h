#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call: one typed
// wrapper per argument kind the HTTPClient target passes, so each option gets exactly the C type
// libcurl reads for it.

// Options that take a `long`: timeouts, flags, limits, SSL_VERIFYPEER/HOST, NOSIGNAL, ...
static inline CURLcode bedrock_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

// Options that take a `curl_off_t` (64-bit sizes): MAXFILESIZE_LARGE, POSTFIELDSIZE_LARGE.
static inline CURLcode bedrock_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

// Options that take a NUL-terminated string (libcurl copies it): URL, CAINFO, USERAGENT, ...
static inline CURLcode bedrock_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

// Options that take an object pointer: the header `curl_slist`, the callbacks' user data, the
// error buffer.
static inline CURLcode bedrock_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

// The signature of CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION callbacks.
typedef size_t (*bedrock_curl_data_callback)(char *data, size_t size, size_t count, void *user);

// Options that take a callback (WRITEFUNCTION, HEADERFUNCTION): a function pointer is not a
// `void *` in C, so it has its own setter.
static inline CURLcode bedrock_curl_setopt_callback(CURL *handle, CURLoption option,
                                                    bedrock_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

// Info items answered as a `long` (RESPONSE_CODE).
static inline CURLcode bedrock_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

// CURL_GLOBAL_DEFAULT is a macro expression of other macros, which Swift does not import.
static inline CURLcode bedrock_curl_global_init(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT);
}

