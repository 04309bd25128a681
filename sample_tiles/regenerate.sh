#!/usr/bin/env bash
# Regenerate the bundled synthetic sample scenes (see README.md in this folder).
# Usage: sample_tiles/regenerate.sh [OUT_DIR]   (default: sample_tiles)
# These are the exact commands that produced the committed files; the same
# commands reproduce them pixel for pixel on the same platform.
set -euo pipefail
out="${1:-sample_tiles}"
railcount synth "$out" --site tumangang --date 2019-06-12 --cars 40 --gsd 0.5 --crs EPSG:32652 --seed 11 --realism v2
railcount synth "$out" --site tumangang --date 2021-03-18 --cars 15 --gsd 0.5 --crs EPSG:4326 --seed 23 --realism v2
railcount synth "$out" --site tumangang --date 2022-08-30 --cars 28 --gsd 0.3 --crs EPSG:3857 --seed 5 --realism v2
railcount synth "$out" --site tumangang --date 2023-10-05 --cars 73 --gsd 0.5 --crs EPSG:32652 --seed 7 --realism v2
