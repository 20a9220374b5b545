/* import_aidax.c — TEMPORARY: the aidax reader is being written. */
#include "import.h"

RnnfxStatus rnnfx_import_aidax(struct json_object *root, const RnnfxLoadOptions *opts,
                           RnnfxModel **out, RnnfxError *err)
{
    (void)root;
    (void)opts;
    *out = NULL;
    return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED, "aidax files are not supported yet");
}
