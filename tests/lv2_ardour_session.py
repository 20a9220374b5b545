#!/usr/bin/python3
"""Completes a headless Ardour 7 session for tests/test_lv2_ardour.sh.

  lv2_ardour_session.py SESSION_DIR NAME INPUT.wav MODEL_PATH SYMBOL=VALUE...

The session was made by ardour7-new_session and a Lua script that added a
mono track "fx" with the rnnfx plugin. Ardour 7.3's Lua cannot import audio
or set a Path property, so this edits the saved files directly:
  - copies INPUT.wav into the session's audio folder and adds a Source, a
    whole-file Region and a Region on the track's playlist (fades off), and
    the session range (times in superclock units: 282240000 per second;
    lengths are written "a<N>@a0");
  - sets the plugin's control ports (SYMBOL=VALUE) in the session XML;
  - writes the model path into the plugin's saved LV2 state (state.ttl), so
    Ardour restores it through LV2 State when it loads the session; a
    MODEL_PATH of "-" leaves the state as Ardour saved it.
"""
import os
import re
import shutil
import struct
import sys

SUPERCLOCK = 282240000


def wav_frames(path):
    data = open(path, "rb").read()
    i, fmt = 12, None
    while i + 8 <= len(data):
        cid = data[i:i + 4]
        size = struct.unpack("<I", data[i + 4:i + 8])[0]
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", data[i + 8:i + 24])
        elif cid == b"data":
            return size // (fmt[1] * fmt[5] // 8), fmt[2]
        i += 8 + size + (size & 1)
    raise SystemExit("%s: no data chunk" % path)


def main(argv):
    if len(argv) < 5:
        print(__doc__)
        return 2
    sess, name, wav, model = argv[1:5]
    controls = dict(a.split("=", 1) for a in argv[5:])
    xml_path = os.path.join(sess, name + ".ardour")
    xml = open(xml_path).read()

    frames, rate = wav_frames(wav)
    per_sample = SUPERCLOCK // rate
    length = "a%d@a0" % (frames * per_sample)
    # the interchange folder is named after the session directory
    audio_dir = os.path.join(sess, "interchange", os.path.basename(os.path.normpath(sess)),
                             "audiofiles")
    os.makedirs(audio_dir, exist_ok=True)
    shutil.copy(wav, os.path.join(audio_dir, "input.wav"))

    ids = [int(x) for x in re.findall(r'\bid="(\d+)"', xml)]
    nid = max(ids) + 100
    src_id, whole_id, reg_id, loc_id = nid, nid + 1, nid + 2, nid + 3

    region_attrs = (
        'muted="0" opaque="1" locked="0" video-locked="0" automatic="0" import="0" '
        'external="0" sync-marked="0" left-of-split="0" right-of-split="0" hidden="0" '
        'position-locked="0" valid-transients="0" start="a0" length="%s" position="a0" '
        'sync-position="a0" ancestral-start="a0" ancestral-length="%s" stretch="1" shift="1" '
        'layering-index="0" envelope-active="0" default-fade-in="0" default-fade-out="0" '
        'fade-in-active="0" fade-out-active="0" scale-amplitude="1" type="audio" '
        'first-edit="nothing" source-0="%d" master-source-0="%d" channels="1"'
        % (length, length, src_id, src_id))
    xml = xml.replace(
        "<Sources/>",
        '<Sources>\n    <Source name="input.wav" type="audio" flags="" id="%d" '
        'captured-for="" channel="0" origin="" gain="1"/>\n  </Sources>' % src_id, 1)
    xml = xml.replace(
        "<Regions/>",
        '<Regions>\n    <Region name="input" whole-file="1" id="%d" %s/>\n  </Regions>'
        % (whole_id, region_attrs), 1)
    m = re.search(r'(<Playlist id="\d+" name="fx" type="audio"[^>]*?)/>', xml)
    if not m:
        raise SystemExit("playlist of track fx not found")
    xml = xml.replace(
        m.group(0),
        '%s>\n      <Region name="input.1" whole-file="0" id="%d" %s/>\n    </Playlist>'
        % (m.group(1), reg_id, region_attrs), 1)
    loc = ('<Location id="%d" name="session" start="a0" end="a%d" flags="IsSessionRange" '
           'locked="0" timestamp="0" cue="0"/>' % (loc_id, frames * per_sample))
    if "<Locations/>" in xml:
        xml = xml.replace("<Locations/>", "<Locations>\n    %s\n  </Locations>" % loc, 1)
    else:
        xml = xml.replace("<Locations>", "<Locations>\n    %s" % loc, 1)

    for sym, val in controls.items():
        n = 0
        xml, k = re.subn(r'(<Port symbol="%s" value=")[^"]*(")' % re.escape(sym),
                         r"\g<1>%s\g<2>" % val, xml)
        n += k
        xml, k = re.subn(r'(<Controllable [^>]*?)value="[^"]*"([^>]*symbol="%s")' % re.escape(sym),
                         r'\g<1>value="%s"\g<2>' % val, xml)
        n += k
        if n == 0:
            raise SystemExit("control %s not found in the session" % sym)
    open(xml_path, "w").write(xml)

    if model == "-":
        return 0
    m = re.search(r'type="lv2" unique-id="http://rnnfx.org/plugins/rnnfx#mono"', xml)
    pm = re.search(r'<Processor id="(\d+)" name="rnnfx \(mono\)"', xml)
    sm = re.search(r'state-dir="([^"]+)"', xml)
    if not (m and pm and sm):
        raise SystemExit("rnnfx processor or its state directory not found")
    state_ttl = os.path.join(sess, "plugins", pm.group(1), sm.group(1), "state.ttl")
    ttl = open(state_ttl).read()
    ttl = ttl.rstrip()
    if not ttl.endswith("."):
        raise SystemExit("unexpected state.ttl layout")
    ttl = ttl[:-1].rstrip() + (' ;\n\tstate:state [\n\t\t<http://rnnfx.org/plugins/rnnfx#model> '
                               '<file://%s>\n\t] .\n' % os.path.abspath(model))
    open(state_ttl, "w").write(ttl)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
