"""The fitted type models: written by benchmarks/fit_car_model.py, do not edit by hand.

Fitted 2026-12-07 on 36825 kept candidate cars within 3.0 m of a true railcar, from 600
scenes (0-599) of the tuned suite, plain (v1) and v2; one-vs-rest gradient-boosted trees
trees 200, depth 4, rate 0.1, l2 1.0, min_leaf 20, bins 64; one set per GSD regime.

Ten forests (each regime: tank, covered, open, flat and tarped) are too many to keep as
Python source as the other models are; they live in FORESTS_FILE beside this module
(railcount.detect.boost.forests_bytes), read by railcount.detect.types.type_forests.
"""

FEATURES = (
    "strength",
    "smoothness",
    "body_dark",
    "shade",
    "step_sun",
    "dark_sun",
    "step_shadow",
    "saturation",
    "rel_lum",
    "log_length",
    "run_score",
    "lum_spread",
    "sun_flank_rel",
    "dark_far_shadow",
    "dark_far_sun",
    "gsd_m",
    "by_pitch",
    "sun_elevation",
    "ctx_smooth_shadow1",
    "ctx_smooth_shadow2",
    "ctx_smooth_shadow3",
    "ctx_smooth_shadow4.5",
    "ctx_smooth_shadow6",
    "ctx_smooth_sun1",
    "ctx_smooth_sun2",
    "ctx_smooth_sun3",
    "ctx_smooth_sun4.5",
    "ctx_smooth_sun6",
    "ctx_rel_shadow1",
    "ctx_rel_shadow2",
    "ctx_rel_shadow3",
    "ctx_rel_shadow4.5",
    "ctx_rel_shadow6",
    "ctx_rel_sun1",
    "ctx_rel_sun2",
    "ctx_rel_sun3",
    "ctx_rel_sun4.5",
    "ctx_rel_sun6",
    "ctx_dark_shadow1",
    "ctx_dark_shadow2",
    "ctx_dark_shadow3",
    "ctx_dark_shadow4.5",
    "ctx_dark_shadow6",
    "ctx_dark_sun1",
    "ctx_dark_sun2",
    "ctx_dark_sun3",
    "ctx_dark_sun4.5",
    "ctx_dark_sun6",
    "ext_smooth_min",
    "ext_smooth_max",
    "ext_rel_min",
    "ext_rel_max",
    "rail_pair",
    "shadow_extent_m",
    "height_m",
    "cross_slope",
    "cross_dip",
    "cross_spread",
    "rough_along",
    "chroma_r",
    "chroma_b",
    "chroma_g",
    "mottle",
    "across_0",
    "across_1",
    "across_2",
    "across_3",
    "across_4",
    "across_5",
)

FINE_MAX_GSD_M = 0.65
"""Cars at this GSD or finer are typed by the "fine" models, coarser ones by the "coarse"."""

FORESTS_FILE = "type_forests.npz"
