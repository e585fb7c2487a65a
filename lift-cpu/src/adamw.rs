//! Burn's AdamW update of one parameter in one pass over its values. Burn composes it from about
//! fifteen tensor ops per parameter, each a pass over memory on one core: 3.3–3.9 ms of the tiny
//! model's training step on the 2-core machine, 1.8 ms this way. The arithmetic is Burn's
//! (burn-optim 0.21 `AdamW::step`), operation for operation in f32, so the values are the same bits.

/// The scalars of one AdamW step of a parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWStep {
    pub beta_1: f32,
    pub beta_2: f32,
    pub epsilon: f32,
    pub weight_decay: f32,
    pub lr: f64,
    /// The step's count for this parameter, from 1 (bias correction).
    pub time: usize,
}

/// Updates `param` and its moments in place by one step with gradient `grad`; `first` when the
/// moments hold no history yet (they are then overwritten).
pub fn update(s: &AdamWStep, param: &mut [f32], grad: &[f32], moment_1: &mut [f32], moment_2: &mut [f32], first: bool) {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: each copy runs only on a CPU with the features it is compiled for.
        if is_x86_feature_detected!("avx512f") {
            return unsafe { update_avx512(s, param, grad, moment_1, moment_2, first) };
        }
        if is_x86_feature_detected!("avx2") {
            return unsafe { update_avx2(s, param, grad, moment_1, moment_2, first) };
        }
    }
    update_portable(s, param, grad, moment_1, moment_2, first)
}

// Copies of the loops with 16 and 8 lanes where the portable build has SSE2's 4. Rust never
// contracts a multiply and an add into an FMA, so every copy gives the same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn update_avx512(s: &AdamWStep, param: &mut [f32], grad: &[f32], moment_1: &mut [f32], moment_2: &mut [f32], first: bool) {
    update_portable(s, param, grad, moment_1, moment_2, first)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn update_avx2(s: &AdamWStep, param: &mut [f32], grad: &[f32], moment_1: &mut [f32], moment_2: &mut [f32], first: bool) {
    update_portable(s, param, grad, moment_1, moment_2, first)
}

#[inline(always)]
fn update_portable(s: &AdamWStep, param: &mut [f32], grad: &[f32], moment_1: &mut [f32], moment_2: &mut [f32], first: bool) {
    let n = param.len();
    assert!(grad.len() == n && moment_1.len() == n && moment_2.len() == n, "AdamW operands of {n} values");
    let (f1, f2) = (1.0 - s.beta_1, 1.0 - s.beta_2);
    let time = s.time as i32;
    let (c1, c2) = (1f32 - s.beta_1.powi(time), 1f32 - s.beta_2.powi(time));
    // Burn skips the decay when lr·λ is 0; multiplying by 1.0 leaves every value as it was.
    let keep = (1.0 - s.lr * s.weight_decay as f64) as f32;
    let lr = s.lr as f32;
    if first {
        // Moments without history: Burn's g·(1 − β₁) and g²·(1 − β₂).
        for ((m, v), &g) in moment_1.iter_mut().zip(moment_2.iter_mut()).zip(grad) {
            (*m, *v) = (g * f1, (g * g) * f2);
        }
    } else {
        for ((m, v), &g) in moment_1.iter_mut().zip(moment_2.iter_mut()).zip(grad) {
            (*m, *v) = (*m * s.beta_1 + g * f1, *v * s.beta_2 + (g * g) * f2);
        }
    }
    // Loops without branches inside, which the compiler vectorises.
    for ((p, &m), &v) in param.iter_mut().zip(moment_1.iter()).zip(moment_2.iter()) {
        *p = *p * keep - (m / c1) / ((v / c2).sqrt() + s.epsilon) * lr;
    }
}

/// A parameter, its gradient and its moments (none before the first step).
pub type Operands<T> = (T, T, Option<[T; 2]>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_steps_by_hand() {
        let s = AdamWStep { beta_1: 0.9, beta_2: 0.999, epsilon: 1e-8, weight_decay: 0.0, lr: 0.1, time: 1 };
        let (mut p, mut m, mut v) = (vec![1.0f32, -2.0], vec![0.0; 2], vec![0.0; 2]);
        update(&s, &mut p, &[0.5, -4.0], &mut m, &mut v, true);
        // The first bias-corrected step is lr · g / (|g| + ε): lr · sign(g).
        assert!((p[0] - 0.9).abs() < 1e-6 && (p[1] + 1.9).abs() < 1e-6, "{p:?}");
        // 1 − β₂ is 0.00099999 in f32.
        assert!((m[0] - 0.05).abs() < 1e-6 && (v[1] - 0.016).abs() < 1e-6, "{m:?} {v:?}");
        // Second step, g = 0.5 again, with decay 0.1: m̂ = 0.5, v̂ = 0.25, so p = 0.9·(1 − 0.01) − 0.1.
        let s = AdamWStep { weight_decay: 0.1, time: 2, ..s };
        update(&s, &mut p[..1], &[0.5], &mut m[..1], &mut v[..1], false);
        assert!((p[0] - (0.9 * 0.99 - 0.1)).abs() < 1e-6, "{p:?}");
    }

    #[test]
    fn every_copy_of_the_loops_gives_the_same_bits() {
        let s = AdamWStep { beta_1: 0.9, beta_2: 0.999, epsilon: 1e-8, weight_decay: 0.01, lr: 3e-3, time: 7 };
        // 1,003 values (not a multiple of any lane count) spread over several magnitudes.
        let wave = |k: f32| (0..1003).map(|i| (i as f32 * k).sin() * 10f32.powi(i % 5 - 3)).collect::<Vec<_>>();
        let (p, g, m, v) = (wave(0.37), wave(1.3), wave(0.11), wave(0.23).iter().map(|x| x * x).collect::<Vec<_>>());
        for first in [true, false] {
            #[allow(clippy::type_complexity)]
            let run = |f: &dyn Fn(&mut [f32], &mut [f32], &mut [f32])| {
                let (mut p, mut m, mut v) = (p.clone(), m.clone(), v.clone());
                f(&mut p, &mut m, &mut v);
                [p, m, v].map(|x| x.iter().map(|f| f.to_bits()).collect::<Vec<_>>())
            };
            let portable = run(&|p, m, v| update_portable(&s, p, &g, m, v, first));
            assert_eq!(portable, run(&|p, m, v| update(&s, p, &g, m, v, first)));
            #[cfg(target_arch = "x86_64")]
            {
                if is_x86_feature_detected!("avx2") {
                    assert_eq!(portable, run(&|p, m, v| unsafe { update_avx2(&s, p, &g, m, v, first) }));
                }
                if is_x86_feature_detected!("avx512f") {
                    assert_eq!(portable, run(&|p, m, v| unsafe { update_avx512(&s, p, &g, m, v, first) }));
                }
            }
        }
    }
}
