/* import_coreaudioml.c — TEMPORARY: the coreaudioml reader is being written. */
#include "import.h"

RnnfxStatus rnnfx_import_coreaudioml(struct json_object *root, const RnnfxLoadOptions *opts,
                           RnnfxModel **out, RnnfxError *err)
{
    (void)root;
    (void)opts;
    *out = NULL;
    return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED, "coreaudioml files are not supported yet");
}
