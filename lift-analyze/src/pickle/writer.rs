//! The writing side of [`super::Value`]: protocol 2 with the opcodes `torch.load(weights_only=True)`
//! accepts (no memo: a checkpoint's tree shares nothing worth it). A `Call` of
//! `collections.OrderedDict` whose one argument is a `Dict` is written as Python writes an
//! OrderedDict: built empty, then filled (the reader turns it back into a `Dict`).

use super::Value;

const PROTO: u8 = 0x80;
const STOP: u8 = b'.';
const MARK: u8 = b'(';
const NONE: u8 = b'N';
const NEWTRUE: u8 = 0x88;
const NEWFALSE: u8 = 0x89;
const BININT: u8 = b'J';
const LONG1: u8 = 0x8a;
const BINFLOAT: u8 = b'G';
const BINUNICODE: u8 = b'X';
const EMPTY_TUPLE: u8 = b')';
const TUPLE: u8 = b't';
const EMPTY_LIST: u8 = b']';
const APPENDS: u8 = b'e';
const EMPTY_DICT: u8 = b'}';
const SETITEMS: u8 = b'u';
const GLOBAL: u8 = b'c';
const REDUCE: u8 = b'R';
const BINPERSID: u8 = b'Q';
const NEWOBJ: u8 = 0x81;
const BUILD: u8 = b'b';

/// `value` as a protocol-2 pickle.
pub fn to_pickle(value: &Value) -> Vec<u8> {
    let mut out = vec![PROTO, 2];
    write(value, &mut out);
    out.push(STOP);
    out
}

fn write(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::None => out.push(NONE),
        Value::Bool(b) => out.push(if *b { NEWTRUE } else { NEWFALSE }),
        Value::Int(i) => match i32::try_from(*i) {
            Ok(small) => {
                out.push(BININT);
                out.extend(small.to_le_bytes());
            }
            Err(_) => {
                out.extend([LONG1, 8]);
                out.extend(i.to_le_bytes());
            }
        },
        Value::Float(f) => {
            out.push(BINFLOAT);
            out.extend(f.to_be_bytes());
        }
        Value::Str(s) => {
            out.push(BINUNICODE);
            out.extend((s.len() as u32).to_le_bytes());
            out.extend(s.as_bytes());
        }
        Value::Tuple(items) => tuple(items, out),
        Value::List(items) => {
            out.push(EMPTY_LIST);
            if !items.is_empty() {
                out.push(MARK);
                items.iter().for_each(|v| write(v, out));
                out.push(APPENDS);
            }
        }
        Value::Dict(pairs) => {
            out.push(EMPTY_DICT);
            set_items(pairs, out);
        }
        Value::Global(name) => global(name, out),
        Value::Call { func, args } if func == "collections.OrderedDict" && matches!(args.first(), Some(Value::Dict(_))) => {
            // An OrderedDict is built empty and then filled, as Python pickles it.
            global(func, out);
            out.push(EMPTY_TUPLE);
            out.push(REDUCE);
            if let Some(Value::Dict(pairs)) = args.first() {
                set_items(pairs, out);
            }
        }
        Value::Call { func, args } => {
            global(func, out);
            tuple(args, out);
            out.push(REDUCE);
        }
        Value::Object { class, state } => {
            global(class, out);
            out.push(EMPTY_TUPLE);
            out.push(NEWOBJ);
            write(state, out);
            out.push(BUILD);
        }
        Value::Persistent(id) => {
            write(id, out);
            out.push(BINPERSID);
        }
    }
}

fn tuple(items: &[Value], out: &mut Vec<u8>) {
    if items.is_empty() {
        out.push(EMPTY_TUPLE);
        return;
    }
    out.push(MARK);
    items.iter().for_each(|v| write(v, out));
    out.push(TUPLE);
}

fn set_items(pairs: &[(Value, Value)], out: &mut Vec<u8>) {
    if pairs.is_empty() {
        return;
    }
    out.push(MARK);
    for (k, v) in pairs {
        write(k, out);
        write(v, out);
    }
    out.push(SETITEMS);
}

/// `module.name` split at its last dot, as GLOBAL wants it.
fn global(name: &str, out: &mut Vec<u8>) {
    let (module, attr) = name.rsplit_once('.').unwrap_or(("builtins", name));
    out.push(GLOBAL);
    out.extend(format!("{module}\n{attr}\n").as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pickle::{unpickle, CheckpointGlobals};

    #[test]
    fn round_trips_through_our_reader() {
        let tree = Value::Dict(vec![
            (Value::Str("ints".into()), Value::List(vec![Value::Int(-3), Value::Int(1 << 40), Value::Int(i64::MIN)])),
            (Value::Str("f".into()), Value::Float(0.9999)),
            (Value::Str("flags".into()), Value::Tuple(vec![Value::Bool(true), Value::Bool(false), Value::None])),
            (Value::Str("empty".into()), Value::Tuple(vec![])),
            (
                Value::Str("od".into()),
                Value::Call { func: "collections.OrderedDict".into(), args: vec![Value::Dict(vec![(Value::Str("é".into()), Value::List(vec![]))])] },
            ),
            (
                Value::Str("pid".into()),
                Value::Persistent(Box::new(Value::Tuple(vec![Value::Str("storage".into()), Value::Global("torch.FloatStorage".into())]))),
            ),
        ]);
        let back = unpickle(&to_pickle(&tree), &CheckpointGlobals).unwrap();
        // Our reader keeps an OrderedDict filled after its call as the call with the pairs.
        assert_eq!(back.get("ints"), tree.get("ints"));
        assert_eq!(back.get("f"), tree.get("f"));
        assert_eq!(back.get("flags"), tree.get("flags"));
        assert_eq!(back.get("empty"), tree.get("empty"));
        assert_eq!(back.get("pid"), tree.get("pid"));
        assert_eq!(back.get("od").unwrap().get("é"), Some(&Value::List(vec![])), "{:?}", back.get("od"));
    }

    #[test]
    fn opcodes_by_hand() {
        // {'a': 1} as Python's pickle.dumps({'a': 1}, protocol=2) without its memo puts.
        assert_eq!(to_pickle(&Value::Dict(vec![(Value::Str("a".into()), Value::Int(1))])), b"\x80\x02}(X\x01\x00\x00\x00aJ\x01\x00\x00\x00u.");
        assert_eq!(to_pickle(&Value::Global("torch.FloatStorage".into())), b"\x80\x02ctorch\nFloatStorage\n.");
    }
}
