// For the load generator's raw-socket client (loadtest/Sources/loadtest/RawClientPool.swift):
// epoll is not in Swift's Glibc module (TCP_NODELAY is).
#include <sys/epoll.h>
