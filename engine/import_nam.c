/* import_nam.c — TEMPORARY: the nam reader is being written. */
#include "import.h"

RnnfxStatus rnnfx_import_nam(struct json_object *root, const RnnfxLoadOptions *opts,
                           RnnfxModel **out, RnnfxError *err)
{
    (void)root;
    (void)opts;
    *out = NULL;
    return rnnfx_fail(err, RNNFX_ERR_UNSUPPORTED, "nam files are not supported yet");
}
