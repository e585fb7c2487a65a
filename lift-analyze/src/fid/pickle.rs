//! A minimal unpickler for TorchScript archives' `data.pkl` (protocol 2): enough opcodes to
//! rebuild the module tree as plain values; nothing is executed.

use std::collections::HashMap;

use anyhow::{bail, Context, Result};

/// A pickled value. Classes and calls are kept symbolic.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Str(String),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    /// Key–value pairs in insertion order.
    Dict(Vec<(Value, Value)>),
    /// `module.name` of a GLOBAL.
    Global(String),
    /// NEWOBJ of a class, with the state set by BUILD.
    Object { class: String, state: Box<Value> },
    /// REDUCE: a callable applied to arguments.
    Call { func: String, args: Vec<Value> },
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

    /// The elements of a tuple or list.
    pub fn items(&self) -> Option<&[Value]> {
        match self {
            Value::Tuple(v) | Value::List(v) => Some(v),
            _ => None,
        }
    }
}

enum Item {
    Mark,
    Value(Value),
}

/// Unpickles `bytes` (the opcodes TorchScript writes for its module tree).
pub fn unpickle(bytes: &[u8]) -> Result<Value> {
    let mut stack: Vec<Item> = Vec::new();
    let mut memo: HashMap<u32, Value> = HashMap::new();
    let mut pos = 0usize;
    let take = |pos: &mut usize, n: usize| -> Result<&[u8]> {
        let s = bytes.get(*pos..*pos + n).context("truncated pickle")?;
        *pos += n;
        Ok(s)
    };
    let pop = |stack: &mut Vec<Item>| -> Result<Value> {
        match stack.pop() {
            Some(Item::Value(v)) => Ok(v),
            _ => bail!("pickle stack underflow"),
        }
    };
    let pop_mark = |stack: &mut Vec<Item>| -> Result<Vec<Value>> {
        let mut items = Vec::new();
        loop {
            match stack.pop() {
                Some(Item::Mark) => break,
                Some(Item::Value(v)) => items.push(v),
                None => bail!("pickle MARK missing"),
            }
        }
        items.reverse();
        Ok(items)
    };
    loop {
        let op = *take(&mut pos, 1)?.first().expect("one byte");
        match op {
            0x80 => {
                take(&mut pos, 1)?; // PROTO
            }
            b'.' => return pop(&mut stack),
            b'(' => stack.push(Item::Mark),
            b')' => stack.push(Item::Value(Value::Tuple(vec![]))),
            b']' => stack.push(Item::Value(Value::List(vec![]))),
            b'}' => stack.push(Item::Value(Value::Dict(vec![]))),
            b'N' => stack.push(Item::Value(Value::None)),
            0x88 => stack.push(Item::Value(Value::Bool(true))),
            0x89 => stack.push(Item::Value(Value::Bool(false))),
            b'K' => stack.push(Item::Value(Value::Int(take(&mut pos, 1)?[0] as i64))),
            b'M' => {
                let b = take(&mut pos, 2)?;
                stack.push(Item::Value(Value::Int(u16::from_le_bytes([b[0], b[1]]) as i64)));
            }
            b'J' => {
                let b = take(&mut pos, 4)?;
                stack.push(Item::Value(Value::Int(i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64)));
            }
            b'X' => {
                let b = take(&mut pos, 4)?;
                let n = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
                let s = std::str::from_utf8(take(&mut pos, n)?).context("pickle string is not UTF-8")?;
                stack.push(Item::Value(Value::Str(s.to_string())));
            }
            b'c' => {
                let mut line = || -> Result<String> {
                    let end = bytes[pos..].iter().position(|&c| c == b'\n').context("unterminated GLOBAL")?;
                    let s = String::from_utf8_lossy(&bytes[pos..pos + end]).into_owned();
                    pos += end + 1;
                    Ok(s)
                };
                let (module, name) = (line()?, line()?);
                stack.push(Item::Value(Value::Global(format!("{module}.{name}"))));
            }
            b'q' | b'r' => {
                let key = if op == b'q' {
                    take(&mut pos, 1)?[0] as u32
                } else {
                    let b = take(&mut pos, 4)?;
                    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
                };
                match stack.last() {
                    Some(Item::Value(v)) => {
                        memo.insert(key, v.clone());
                    }
                    _ => bail!("pickle PUT without a value"),
                }
            }
            b'h' | b'j' => {
                let key = if op == b'h' {
                    take(&mut pos, 1)?[0] as u32
                } else {
                    let b = take(&mut pos, 4)?;
                    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
                };
                let v = memo.get(&key).with_context(|| format!("pickle memo {key} missing"))?.clone();
                stack.push(Item::Value(v));
            }
            b't' => {
                let items = pop_mark(&mut stack)?;
                stack.push(Item::Value(Value::Tuple(items)));
            }
            b'e' => {
                let items = pop_mark(&mut stack)?;
                match stack.last_mut() {
                    Some(Item::Value(Value::List(list))) => list.extend(items),
                    _ => bail!("pickle APPENDS without a list"),
                }
            }
            b'u' => {
                let items = pop_mark(&mut stack)?;
                match stack.last_mut() {
                    Some(Item::Value(Value::Dict(dict))) => {
                        let mut it = items.into_iter();
                        while let (Some(k), Some(v)) = (it.next(), it.next()) {
                            dict.push((k, v));
                        }
                    }
                    _ => bail!("pickle SETITEMS without a dict"),
                }
            }
            b'Q' => {
                let pid = pop(&mut stack)?;
                stack.push(Item::Value(Value::Persistent(Box::new(pid))));
            }
            b'R' | 0x81 => {
                let args = pop(&mut stack)?;
                let func = match pop(&mut stack)? {
                    Value::Global(g) => g,
                    other => bail!("pickle calls a non-global {other:?}"),
                };
                let args = args.items().map(<[Value]>::to_vec).unwrap_or_default();
                stack.push(Item::Value(if op == 0x81 {
                    Value::Object { class: func, state: Box::new(Value::None) }
                } else {
                    Value::Call { func, args }
                }));
            }
            b'b' => {
                let state = pop(&mut stack)?;
                match stack.last_mut() {
                    Some(Item::Value(Value::Object { state: s, .. })) => **s = state,
                    _ => bail!("pickle BUILD without an object"),
                }
            }
            other => bail!("unsupported pickle opcode 0x{other:02x} at byte {}", pos - 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_small_module_tree() {
        // python: pickle.dumps of an object-like structure, protocol 2, written by hand:
        // GLOBAL m C; EMPTY_TUPLE; NEWOBJ; EMPTY_DICT; MARK 'a' K 7 'b' (MARK K1 K2 t) SETITEMS; BUILD; STOP
        let mut p = vec![0x80, 2];
        p.extend(b"cm\nC\n)\x81}(");
        for (k, v) in [("a", vec![b'K', 7])] {
            p.push(b'X');
            p.extend((k.len() as u32).to_le_bytes());
            p.extend(k.as_bytes());
            p.extend(v);
        }
        p.push(b'X');
        p.extend(1u32.to_le_bytes());
        p.extend(b"b(K\x01K\x02tq\x00u");
        p.extend(b"b.");
        let v = unpickle(&p).unwrap();
        let Value::Object { class, state } = v else { panic!("{v:?}") };
        assert_eq!(class, "m.C");
        assert_eq!(
            *state,
            Value::Dict(vec![
                (Value::Str("a".into()), Value::Int(7)),
                (Value::Str("b".into()), Value::Tuple(vec![Value::Int(1), Value::Int(2)]))
            ])
        );
        assert!(unpickle(&[0x80, 2, 0xff]).unwrap_err().to_string().contains("0xff"));
    }
}
