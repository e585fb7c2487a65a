//! Timestep embeddings: the sinusoidal features and the MLPs that turn them into the conditioning
//! vector of every residual block.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::silu;
use burn::tensor::{backend::Backend, Tensor};

/// Sinusoidal features of the raw timestep (0..T−1, not normalised), as in the original:
/// frequencies exp(−i·ln(10000)/(half−1)), output [sin, cos].
///
/// # Shapes
/// - `t`: `[batch]` (fractional timesteps allowed)
/// - output: `[batch, dim]`
pub fn sinusoidal_embedding<B: Backend>(t: Tensor<B, 1>, dim: usize) -> Tensor<B, 2> {
    let half = dim / 2;
    let step = (10000f64).ln() / (half as f64 - 1.0);
    let freqs: Vec<f32> = (0..half).map(|i| (-(i as f64) * step).exp() as f32).collect();
    // Built in f32 and cast to the input's format (bf16 training).
    let freqs = Tensor::<B, 1>::from_floats(freqs.as_slice(), &t.device()).cast(float_dtype(t.dtype())).unsqueeze::<2>();
    let args = t.unsqueeze_dim::<2>(1) * freqs;
    Tensor::cat(vec![args.clone().sin(), args.cos()], 1)
}

/// The float format of a float tensor's dtype.
pub fn float_dtype(d: burn::tensor::DType) -> burn::tensor::FloatDType {
    match d {
        burn::tensor::DType::BF16 => burn::tensor::FloatDType::BF16,
        burn::tensor::DType::F16 => burn::tensor::FloatDType::F16,
        burn::tensor::DType::F64 => burn::tensor::FloatDType::F64,
        _ => burn::tensor::FloatDType::F32,
    }
}

/// Linear, SiLU, Linear.
#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    fc1: Linear<B>,
    fc2: Linear<B>,
}

impl<B: Backend> Mlp<B> {
    /// A two-layer MLP `d_in → d_out → d_out`.
    pub fn new(d_in: usize, d_out: usize, device: &B::Device) -> Self {
        Self { fc1: LinearConfig::new(d_in, d_out).init(device), fc2: LinearConfig::new(d_out, d_out).init(device) }
    }

    /// # Shapes
    /// - `x`: `[batch, d_in]` → `[batch, d_out]`
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        self.fc2.forward(silu(self.fc1.forward(x)))
    }
}

/// Sinusoidal embedding followed by the time MLP (shared by both scales in LIFT).
#[derive(Module, Debug)]
pub struct TimeEmbedding<B: Backend> {
    mlp: Mlp<B>,
    embed_dim: usize,
}

impl<B: Backend> TimeEmbedding<B> {
    /// `embed_dim` sinusoidal features mapped to `time_dim`.
    pub fn new(embed_dim: usize, time_dim: usize, device: &B::Device) -> Self {
        Self { mlp: Mlp::new(embed_dim, time_dim, device), embed_dim }
    }

    /// # Shapes
    /// - `t`: `[batch]` → `[batch, time_dim]`
    pub fn forward(&self, t: Tensor<B, 1>) -> Tensor<B, 2> {
        self.mlp.forward(sinusoidal_embedding(t, self.embed_dim))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;

    #[test]
    fn sinusoidal_values_by_hand() {
        // dim 4 → half 2, frequencies exp(0) = 1 and exp(−ln 10000) = 1e-4.
        let dev = Default::default();
        let e = sinusoidal_embedding(Tensor::<Flex, 1>::from_floats([0.0, 500.0], &dev), 4);
        let v: Vec<f32> = e.into_data().to_vec().unwrap();
        let expected = [0.0, 0.0, 1.0, 1.0, 500f64.sin(), 0.05f64.sin(), 500f64.cos(), 0.05f64.cos()];
        for (a, b) in v.iter().zip(expected) {
            assert!((*a as f64 - b).abs() < 1e-4, "{v:?}");
        }
    }
}
