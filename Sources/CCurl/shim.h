#ifndef NIGHTSHIFT_CCURL_SHIM_H
#define NIGHTSHIFT_CCURL_SHIM_H

#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, so Swift cannot call
// them. These typed wrappers pass each argument type through explicitly.

static inline CURLcode nightshift_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode nightshift_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode nightshift_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode nightshift_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode nightshift_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

typedef size_t (*nightshift_curl_data_callback)(char *buffer, size_t size, size_t count, void *context);

static inline CURLcode nightshift_curl_setopt_data_callback(CURL *handle, CURLoption option,
                                                            nightshift_curl_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

typedef int (*nightshift_curl_progress_callback)(void *context, curl_off_t download_total, curl_off_t download_now,
                                                 curl_off_t upload_total, curl_off_t upload_now);

static inline CURLcode nightshift_curl_setopt_progress_callback(CURL *handle,
                                                                nightshift_curl_progress_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
}

typedef int (*nightshift_curl_seek_callback)(void *context, curl_off_t offset, int origin);

static inline CURLcode nightshift_curl_setopt_seek_callback(CURL *handle, nightshift_curl_seek_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_SEEKFUNCTION, callback);
}

static inline CURLcode nightshift_curl_getinfo_offset(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode nightshift_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode nightshift_curl_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
