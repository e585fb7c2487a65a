#!/usr/bin/python3
"""Reads TensorBoard event files with tensorboard's own reader: the test
`lift-train/tests/tensorboard.rs` hands it a run's `--tensorboard` folder.

    /usr/bin/python3 bench/tensorboard_check.py SITE DIR

SITE holds the unpacked tensorboard 2.17.1 wheel (`cargo xtask test` puts it in artifacts/python;
it needs Debian's python3-protobuf and python3-absl). `EventAccumulator(DIR)` loads every event
file of the folder (checking each record's CRC), and this prints one JSON object:
{"scalars": {tag: [[step, value], ...]}, "images": {tag: [[step, width, height, png bytes], ...]}}.
"""
import json
import sys


def main():
    site, folder = sys.argv[1:3]
    sys.path.insert(0, site)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    acc = EventAccumulator(folder, size_guidance={'scalars': 0, 'images': 0})
    acc.Reload()
    tags = acc.Tags()
    out = {
        'scalars': {t: [[e.step, e.value] for e in acc.Scalars(t)] for t in tags['scalars']},
        'images': {t: [[e.step, e.width, e.height, len(e.encoded_image_string)] for e in acc.Images(t)] for t in tags['images']},
    }
    print(json.dumps(out))


if __name__ == '__main__':
    main()
