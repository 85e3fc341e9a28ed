/* config_key.c - defaults and look-up over key tables (see config_key.h). */
#include "config_key.h"

#include <string.h>

void config_key_defaults(const struct config_key *keys, size_t count, void *base)
{
    for (size_t i = 0; i < count; i++) {
        char *field = (char *)base + keys[i].offset;
        switch (keys[i].kind) {
        case KEY_UNSIGNED:
            *(unsigned *)(void *)field = (unsigned)keys[i].def;
            break;
        case KEY_SIZE:
            *(size_t *)(void *)field = (size_t)keys[i].def * keys[i].scale;
            break;
        case KEY_BOOL:
            *(bool *)(void *)field = keys[i].def != 0;
            break;
        default:
            break;
        }
    }
}

const struct config_key *config_key_find(const struct config_key *keys, size_t count,
                                         const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}
