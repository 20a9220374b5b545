/*
 * preset.h — LV2 presets for trained models.
 *
 * A preset for the rnnfx plugins (http://rnnfx.org/plugins/rnnfx#mono and
 * #stereo: one preset each, the stereo one's subject the mono one's with
 * "#stereo" added) that loads one model file: its state holds the model
 * path property
 * (http://rnnfx.org/plugins/rnnfx#model, an atom:Path), written as a URI the
 * way LV2 state stores paths. Two forms:
 *   - a bundle directory NAME.lv2/ with manifest.ttl, the preset .ttl and a
 *     copy of the model beside it (self-contained: copy it into ~/.lv2 and
 *     hosts list the preset);
 *   - a lone .ttl pointing at the model by absolute file URI (for people who
 *     keep their own preset bundle).
 * Control-port values are not written: the plugin's defaults apply.
 *
 * Thread: any (files; not the audio thread).
 */
#ifndef RNNFX_PRESET_H
#define RNNFX_PRESET_H

#include "status.h"

#define RNNFX_PLUGIN_URI "http://rnnfx.org/plugins/rnnfx#mono"
#define RNNFX_STEREO_PLUGIN_URI "http://rnnfx.org/plugins/rnnfx#stereo"
#define RNNFX_STEREO_SUFFIX "#stereo"
#define RNNFX_MODEL_PROPERTY_URI "http://rnnfx.org/plugins/rnnfx#model"

/* Writes a preset bundle at bundle_dir (created if missing; must end in
 * ".lv2"), copying model_path into it. label is the name hosts show. The
 * files appear atomically one by one; the manifest is written last. */
RnnfxStatus rnnfx_preset_write_bundle(const char *bundle_dir, const char *label,
                                      const char *model_path, RnnfxError *err);

/* Writes a single preset .ttl referring to model_path (made absolute). */
RnnfxStatus rnnfx_preset_write_ttl(const char *ttl_path, const char *label,
                                   const char *model_path, RnnfxError *err);

/* The Turtle text of the presets <subject> (mono) and <subject#stereo>
 * whose model reference is the URI reference model_ref (already escaped).
 * malloc'd. */
char *rnnfx_preset_text(const char *subject, const char *label, const char *model_ref);

#endif
