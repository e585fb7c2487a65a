//! Analysis of trained LIFT models: inspection, Jacobian error heatmaps, DP paths, figures,
//! generation along paths, FID/SWD and MSE tests.

pub mod inspect;
