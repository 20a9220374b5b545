/*
 * lv2_features.h — finding a host feature, shared by both plugins.
 *
 * Hosts hand the plugin a NULL-terminated array of features. Some fill it
 * carelessly: lv2file passes an entry whose URI is NULL (after urid:map,
 * unmap and options), which a plain strcmp over the array dereferences. So
 * entries without a URI, and features whose data is NULL, count as absent.
 * What this is not: a check that the host's feature data is well formed.
 */
#ifndef RNNFX_LV2_FEATURES_H
#define RNNFX_LV2_FEATURES_H

#include <string.h>

#include <lv2/core/lv2.h>

/* The data of the feature named uri, or NULL. Thread: any (no allocation). */
static inline void *rnnfx_lv2_feature(const LV2_Feature *const *features, const char *uri)
{
    for (int i = 0; features && features[i]; i++)
        if (features[i]->URI && !strcmp(features[i]->URI, uri)) return features[i]->data;
    return NULL;
}

#endif
