#include <jansson.h>
// json_decref / json_incref are static inline with refcount atomics; expose plain functions.
static inline void bedrock_json_decref(json_t *j) { json_decref(j); }
static inline json_t *bedrock_json_incref(json_t *j) { return json_incref(j); }
