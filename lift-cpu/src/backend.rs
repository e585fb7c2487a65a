//! The one place that asks which backend runs. The kernels take flex's tensors, with or without
//! autodiff; every other backend gets Burn's own ops.

use burn::tensor::backend::Backend;

/// Which flex a backend is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flex {
    /// `Flex`: inference.
    Plain,
    /// `Autodiff<Flex>`: training, where a kernel records its own backward step.
    Tracked,
}

/// `Some` when `B` is flex (with or without autodiff).
pub(crate) fn flex<B: Backend>() -> Option<Flex> {
    use burn::backend::{Autodiff, Flex as F};
    use std::any::TypeId;
    let b = TypeId::of::<B>();
    if b == TypeId::of::<F>() {
        Some(Flex::Plain)
    } else if b == TypeId::of::<Autodiff<F>>() {
        Some(Flex::Tracked)
    } else {
        None
    }
}

/// Whether `B` computes on this process's CPU threads.
pub(crate) fn on_cpu<B: Backend>() -> bool {
    flex::<B>().is_some()
}

/// `t` as a `U`, for a caller that found by [`flex`] that `T` is `U`.
pub(crate) fn cast<T: 'static, U: 'static>(t: T) -> U {
    let mut slot = Some(t);
    match (&mut slot as &mut dyn std::any::Any).downcast_mut::<Option<U>>() {
        Some(u) => u.take().expect("filled above"),
        None => unreachable!("the backend check found the types equal"),
    }
}
