// OpenSSL's libcrypto, for message digests (EVP interface: one call per digest, no variadics).
#include <openssl/evp.h>
