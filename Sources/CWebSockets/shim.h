#include <libwebsockets.h>
// LWS_PRE is a macro expression (not a plain constant) and does not import into Swift.
static const unsigned int bedrock_lws_pre = LWS_PRE;

// libev (a dependency of libwebsockets-dev): each lws context gets a loop of its own, passed as
// a "foreign" loop, so several contexts can run on several threads (lws would otherwise attach
// a SIGINT watcher per loop, which libev allows for one loop only). Declared here rather than by
// including <ev.h>, whose macros do not import.
struct ev_loop;
extern struct ev_loop *ev_loop_new(unsigned int flags);
extern void ev_loop_destroy(struct ev_loop *loop);

// TLS: the gateway turns TLS 1.3 session tickets off on its server SSL_CTX (see Transport's LWSContext).
static inline void bedrock_ssl_ctx_without_tickets(void *ctx) {
#if defined(LWS_WITH_TLS) && defined(TLS1_3_VERSION)
    SSL_CTX_set_num_tickets((SSL_CTX *)ctx, 0);
#endif
}
