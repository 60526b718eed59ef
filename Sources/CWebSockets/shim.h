#include <libwebsockets.h>
// LWS_PRE is a macro expression (not a plain constant) and does not import into Swift.
static const unsigned int bedrock_lws_pre = LWS_PRE;
