// libxcrypt (Debian: libcrypt-dev): crypt_gensalt_rn and crypt_rn, the reentrant forms.
#include <crypt.h>
