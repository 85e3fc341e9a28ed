/* registry.c - the decoders compiled in, by config name.
 *
 * Adding a decoder is one line in DECODERS: X(name) declares the decoder's
 * `name_decoder` object and lists it. */
#include "decoder.h"

#include <string.h>

#define DECODERS(X) \
    X(http) \
    X(elasticsearch) \
    X(mongodb)

#define DECLARE_DECODER(name) extern const struct decoder name##_decoder;
DECODERS(DECLARE_DECODER)
#undef DECLARE_DECODER

#define LIST_DECODER(name) &name##_decoder,
static const struct decoder *const all_decoders[] = {
    DECODERS(LIST_DECODER)
    NULL,
};
#undef LIST_DECODER

const struct decoder *decoder_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; all_decoders[i] != NULL; i++)
        if (strcmp(all_decoders[i]->name, name) == 0)
            return all_decoders[i];
    return NULL;
}

const struct decoder *const *decoder_all(void)
{
    return all_decoders;
}
