// OpenSSL's libcrypto: message digests (EVP interface: one call per digest, no variadics) and
// HMAC (the one-shot `HMAC()`) for Digests, and public keys for JWTAuth (PEM read and write through memory BIOs; JWK members
// turned into keys through OSSL_PARAM_BLD and EVP_PKEY_fromdata).
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/bn.h>
#include <openssl/param_build.h>
#include <openssl/core_names.h>
#include <openssl/err.h>

// EVP_PKEY_PUBLIC_KEY is a macro built from other macros with `|`, which Swift does not import.
static const int ccrypto_evp_pkey_public_key = EVP_PKEY_PUBLIC_KEY;

// OSSL_PARAM_BLD keeps the key name (and a UTF-8 value) by reference until OSSL_PARAM_BLD_to_param;
// a Swift string passed as `const char *` lives only for the call, so the names are static here.
static const char *const ccrypto_param_rsa_n = OSSL_PKEY_PARAM_RSA_N;
static const char *const ccrypto_param_rsa_e = OSSL_PKEY_PARAM_RSA_E;
static const char *const ccrypto_param_group_name = OSSL_PKEY_PARAM_GROUP_NAME;
static const char *const ccrypto_param_pub_key = OSSL_PKEY_PARAM_PUB_KEY;
static const char *const ccrypto_group_p256 = SN_X9_62_prime256v1;
