//! A small unpickler for the pickles PyTorch writes (protocol 2): `torch.save` checkpoints and
//! TorchScript archives' `data.pkl`. Nothing is executed: globals, calls and objects stay symbolic
//! values, and only the globals a [`Policy`] allows may appear at all. Corrupt input is an error,
//! never a panic, a hang or an unbounded allocation (memo copies and nesting are capped).

/// A pickled value. Classes and calls are kept symbolic.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    /// Key–value pairs in insertion order (also `collections.OrderedDict()`).
    Dict(Vec<(Value, Value)>),
    /// `module.name` of a GLOBAL.
    Global(String),
    /// NEWOBJ of a class, with the state set by BUILD.
    Object {
        class: String,
        state: Box<Value>,
    },
    /// REDUCE: a callable applied to arguments.
    Call {
        func: String,
        args: Vec<Value>,
    },
    /// A persistent id (tensor storages).
    Persistent(Box<Value>),
}

impl Value {
    /// The string inside a `Str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer inside an `Int`.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The number inside an `Int` or a `Float`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The elements of a tuple or list.
    pub fn items(&self) -> Option<&[Value]> {
        match self {
            Value::Tuple(v) | Value::List(v) => Some(v),
            _ => None,
        }
    }

    /// The value of string key `key` in a dict.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Dict(pairs) => pairs.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Nodes in the tree (for the copy budget) and its depth.
    fn size_and_depth(&self) -> (usize, usize) {
        let children: Box<dyn Iterator<Item = &Value>> = match self {
            Value::Tuple(v) | Value::List(v) | Value::Call { args: v, .. } => Box::new(v.iter()),
            Value::Dict(p) => Box::new(p.iter().flat_map(|(k, v)| [k, v])),
            Value::Object { state, .. } | Value::Persistent(state) => Box::new(std::iter::once(state.as_ref())),
            _ => Box::new(std::iter::empty()),
        };
        children.fold((1, 1), |(n, d), c| {
            let (cn, cd) = c.size_and_depth();
            (n + cn, d.max(cd + 1))
        })
    }
}

/// Which globals a pickle may name.
pub trait Policy {
    /// True when `module.name` may appear.
    fn allows(&self, global: &str) -> bool;
}

/// What a `torch.save` checkpoint needs: tensor rebuilds, storage types and `OrderedDict`.
pub struct CheckpointGlobals;

/// Storage classes of tensors.
pub const STORAGES: [&str; 10] = [
    "torch.FloatStorage",
    "torch.DoubleStorage",
    "torch.HalfStorage",
    "torch.BFloat16Storage",
    "torch.LongStorage",
    "torch.IntStorage",
    "torch.ShortStorage",
    "torch.CharStorage",
    "torch.ByteStorage",
    "torch.BoolStorage",
];

impl Policy for CheckpointGlobals {
    fn allows(&self, global: &str) -> bool {
        matches!(global, "torch._utils._rebuild_tensor_v2" | "torch._utils._rebuild_parameter" | "collections.OrderedDict") || STORAGES.contains(&global)
    }
}

/// A TorchScript archive's module tree: its own `__torch__` classes and `torch.jit._pickle`'s
/// list builders besides the checkpoint globals.
pub struct TorchScriptGlobals;

impl Policy for TorchScriptGlobals {
    fn allows(&self, global: &str) -> bool {
        global.starts_with("__torch__.") || global.starts_with("torch.jit._pickle.build_") || CheckpointGlobals.allows(global)
    }
}

mod reader;
mod writer;
pub use reader::unpickle;
pub use writer::to_pickle;
