"""Spearman rank correlations of a run's liveliness across splits, from the rows of the lab log (research/log/models.md).

Every row: a run of 288 steps from v1 on pack64_v2 (energy 0.5 unless the recipe changes it), seed-0 evaluation at
noise 1, copied from the tables of research/log/models.md: (val median motion ratio, unseen-val (SuperTux 56) median
motion ratio, Hedgewars unseen-val ratio or None).

    python research/transfer_rows.py
"""
import numpy as np


def spearmanr(a, b, draws=20000):
    """``(rho, p)``: Spearman's rho (average ranks for ties) and a two-sided permutation p-value."""
    def ranks(x):
        x = np.asarray(x, float); order = x.argsort(); r = np.empty(len(x)); r[order] = np.arange(len(x))
        for v in np.unique(x): r[x == v] = r[x == v].mean()
        return r
    ra, rb = ranks(a), ranks(b); rho = np.corrcoef(ra, rb)[0, 1]
    g = np.random.default_rng(0); perm = np.array([np.corrcoef(ra, g.permutation(rb))[0, 1] for _ in range(draws)])
    return rho, (np.sum(np.abs(perm) >= abs(rho) - 1e-12) + 1) / (draws + 1)


ROWS = {
    "E s0": (1.03, 0.52, 0.26), "E s1": (1.21, 0.62, 0.32), "E s2": (1.12, 0.74, None), "E s3": (1.05, 0.45, None),
    "SE s0": (1.15, 0.56, None), "SE s1": (1.04, 0.49, None),
    "K2 s0": (1.25, 0.59, None), "K2 s1": (1.31, 0.52, None),
    "F s0": (1.64, 1.54, None), "F s1": (1.69, 1.65, None),
    "FP s0": (1.86, 1.73, None), "FP s1": (2.50, 2.07, None),
    "B s0": (1.14, 0.53, None), "B s1": (1.09, 0.54, None),
    "PS s0": (1.12, 0.59, 0.26), "PS s1": (1.20, 0.50, 0.28),
    "G s0": (1.28, 0.65, 0.37), "G s1": (1.24, 0.62, 0.38),
    "SB s0": (1.17, 0.58, 0.61), "SB s1": (1.19, 0.77, 0.34),
    "CT0 s0": (0.91, 0.34, 0.16), "CT0 s1": (0.98, 0.39, 0.23),
    "CT1 s0": (0.92, 0.43, 0.19), "CT1 s1": (1.00, 0.31, 0.20),
    "SW0 s0": (1.07, 0.46, 0.21), "SW0 s1": (1.16, 0.61, 0.39),
    "CD s0": (1.11, 0.51, 0.23), "CD s1": (1.28, 0.71, 0.49),
    "SIL s0": (1.05, 0.39, 0.16), "SIL s1": (1.20, 0.70, 0.31),
    "SQ s0": (1.00, 0.38, 0.17), "SQ s1": (1.22, 0.72, 0.43),
    "F3 s0": (0.40, 0.07, 0.04), "F3 s1": (0.48, 0.10, 0.04),
    # session 11 (seeds23_*.md here)
    "SQ s2": (0.995, 0.503, 0.294), "SQ s3": (0.989, 0.558, 0.207),
    "CD s2": (1.206, 0.655, 0.308), "CD s3": (1.025, 0.583, 0.230),
}


def report(label, rows):
    val, uv, _ = zip(*rows.values())
    hw = [r for r in rows.values() if r[2] is not None]
    line = "{}: n={} val~unseen-val rho={:.2f} (p={:.1g})".format(label, len(rows), *spearmanr(val, uv))
    if len(hw) > 3:
        hv, hu, hh = zip(*hw)
        line += "; n_hw={} val~HW rho={:.2f} (p={:.1g}) unseen-val~HW rho={:.2f} (p={:.1g})".format(
            len(hw), *spearmanr(hv, hh), *spearmanr(hu, hh))
    print(line)


report("all rows", ROWS)
narrow = {k: v for k, v in ROWS.items() if k.split()[0] not in ("F", "FP", "F3")}
report("without the floor rows F, FP and the vocabulary rows F3", narrow)
shr = sorted(v[1] / v[0] for v in narrow.values())
print("unseen-val / val ratio over those rows: median %.2f, range %.2f-%.2f" % (shr[len(shr) // 2], shr[0], shr[-1]))
