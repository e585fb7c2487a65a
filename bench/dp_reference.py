#!/usr/bin/env python3
"""Independent reference for the exact-N-step path search (reference-facts.md, "DP"), written
from the spec rather than from lift-analyze/src/dp.rs: a path runs from cell (0, 0) to (n-1, n-1)
in exactly N steps, each step moves neither index backwards, not both by zero, at most `jump`
cells per axis; a step a -> b costs (e64[a] + e64[b])/2 * |dlambda64| + (e32[a] + e32[b])/2 *
|dlambda32|. Writes lift-analyze/tests/fixtures/dp_reference.json: two 30x30 maps, the lambda
grid, and the cheapest cost and path for several (N, jump).

Usage: python3 bench/dp_reference.py [out.json]
"""
import json, math, sys


def maps(n):
    fine = [[1.0 + math.sin(0.7 * i + 0.31 * j ** 1.1) ** 2 + 0.05 * ((i * 7 + j * 13) % 11) for j in range(n)] for i in range(n)]
    coarse = [[0.5 + math.cos(0.23 * i * j / n + 0.4 * j) ** 2 + 0.03 * ((i * 5 + j * 3) % 7) for j in range(n)] for i in range(n)]
    lam = [-9.0 + 18.0 * (k / (n - 1)) ** 1.3 for k in range(n)]
    return fine, coarse, lam


def step_cost(fine, coarse, lam, a, b):
    d64, d32 = abs(lam[b[0]] - lam[a[0]]), abs(lam[b[1]] - lam[a[1]])
    return (fine[a[0]][a[1]] + fine[b[0]][b[1]]) / 2 * d64 + (coarse[a[0]][a[1]] + coarse[b[0]][b[1]]) / 2 * d32


def cheapest(fine, coarse, lam, steps, jump):
    """Forward DP over (steps taken, cell); returns (cost, path) or (None, None)."""
    n = len(lam)
    inf = float("inf")
    cost = {(0, 0): 0.0}
    back = []
    for _ in range(steps):
        nxt, prev = {}, {}
        for (i, j), c in cost.items():
            for di in range(0, jump + 1):
                for dj in range(0, jump + 1):
                    if di == 0 and dj == 0:
                        continue
                    b = (i + di, j + dj)
                    if b[0] >= n or b[1] >= n:
                        continue
                    v = c + step_cost(fine, coarse, lam, (i, j), b)
                    if v < nxt.get(b, inf):
                        nxt[b], prev[b] = v, (i, j)
        back.append(prev)
        cost = nxt
    end = (n - 1, n - 1)
    if end not in cost:
        return None, None
    path = [end]
    for prev in reversed(back):
        path.append(prev[path[-1]])
    return cost[end], path[::-1]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "lift-analyze/tests/fixtures/dp_reference.json"
    n = 30
    fine, coarse, lam = maps(n)
    zero = [[0.0] * n for _ in range(n)]
    cases = []
    for steps, jump in [(18, 5), (18, 2), (40, 1), (30, 3)]:
        for name, c in [("total", coarse), ("fine-only", zero)]:
            total, path = cheapest(fine, c, lam, steps, jump)
            cases.append({"steps": steps, "jump": jump, "coarse": name, "cost": total, "path": path})
    with open(out, "w") as f:
        json.dump({"fine": fine, "coarse": coarse, "log_snr": lam, "cases": cases}, f)
    print(f"wrote {out}: {len(cases)} cases")


if __name__ == "__main__":
    main()
