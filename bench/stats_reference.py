#!/usr/bin/env python3
"""Golden values for lift-analyze/src/stats.rs, computed without the code under test (and
without scipy, which Debian's python3 here lacks): Welch's t, its Welch-Satterthwaite degrees
of freedom and the two-sided p-value by integrating Student's t density numerically.

    python3 bench/stats_reference.py
"""
from math import gamma, pi, sqrt
from statistics import mean, variance


def welch(a, b):
    va, vb = variance(a) / len(a), variance(b) / len(b)
    t = (mean(a) - mean(b)) / sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    c = gamma((df + 1) / 2) / (sqrt(df * pi) * gamma(df / 2))
    density = lambda x: c * (1 + x * x / df) ** (-(df + 1) / 2)
    # P(T > |t|) with x = |t| + u/(1 - u), u in (0, 1), midpoint rule.
    n = 400_000
    tail = sum(density(abs(t) + u / (1 - u)) / (1 - u) ** 2 for u in ((k + 0.5) / n for k in range(n))) / n
    return t, df, 2 * tail


if __name__ == "__main__":
    t, df, p = welch([1, 2, 3, 4], [3, 5, 7])
    print(f"welch([1,2,3,4], [3,5,7]): t = {t:.7f}, df = {df:.6f}, p = {p:.6f}")
