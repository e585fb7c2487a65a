//! The pickle opcode reader behind [`unpickle`](super::unpickle): a stack machine over protocol 2
//! that builds symbolic [`Value`]s, with nesting and memo copies capped.

use std::collections::HashMap;

use anyhow::{bail, Context, Result};

use super::{Policy, Value};

/// Deepest nesting a PyTorch pickle needs (a module tree is a few levels deep).
const MAX_DEPTH: usize = 64;

enum Item {
    Mark,
    Value(Value),
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    stack: Vec<Item>,
    memo: HashMap<u32, Value>,
    /// Nodes that memo lookups may still copy.
    budget: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self.pos.checked_add(n).context("truncated pickle")?;
        let s = self.bytes.get(self.pos..end).context("truncated pickle")?;
        self.pos = end;
        Ok(s)
    }

    fn u32_le(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn line(&mut self) -> Result<String> {
        let rest = &self.bytes[self.pos..];
        let end = rest.iter().take(256).position(|&c| c == b'\n').context("unterminated GLOBAL")?;
        let s = std::str::from_utf8(&rest[..end]).context("GLOBAL name is not UTF-8")?.to_string();
        self.pos += end + 1;
        Ok(s)
    }

    fn push(&mut self, v: Value) -> Result<()> {
        if v.size_and_depth().1 > MAX_DEPTH {
            bail!("pickle nests deeper than {MAX_DEPTH} levels");
        }
        self.stack.push(Item::Value(v));
        Ok(())
    }

    fn pop(&mut self) -> Result<Value> {
        match self.stack.pop() {
            Some(Item::Value(v)) => Ok(v),
            _ => bail!("pickle stack underflow"),
        }
    }

    fn pop_mark(&mut self) -> Result<Vec<Value>> {
        let mut items = Vec::new();
        loop {
            match self.stack.pop() {
                Some(Item::Mark) => break,
                Some(Item::Value(v)) => items.push(v),
                None => bail!("pickle MARK missing"),
            }
        }
        items.reverse();
        Ok(items)
    }

    fn top(&mut self) -> Result<&mut Value> {
        match self.stack.last_mut() {
            Some(Item::Value(v)) => Ok(v),
            _ => bail!("pickle stack underflow"),
        }
    }

    /// Charges a copy of `v` to the budget.
    fn charge(&mut self, v: &Value) -> Result<()> {
        let (size, _) = v.size_and_depth();
        self.budget = self.budget.checked_sub(size).context("pickle copies memo values beyond any checkpoint's size")?;
        Ok(())
    }

    fn memo_get(&mut self, key: u32) -> Result<()> {
        let v = self.memo.get(&key).with_context(|| format!("pickle memo {key} missing"))?.clone();
        self.charge(&v)?;
        self.push(v)
    }

    fn memo_put(&mut self, key: u32) -> Result<()> {
        let v = match self.stack.last() {
            Some(Item::Value(v)) => v.clone(),
            _ => bail!("pickle PUT without a value"),
        };
        self.charge(&v)?;
        self.memo.insert(key, v);
        Ok(())
    }

    /// Items about to go into the container on top of the stack must leave it within the depth cap.
    fn check_nesting(items: &[Value]) -> Result<()> {
        if items.iter().any(|v| v.size_and_depth().1 + 1 > MAX_DEPTH) {
            bail!("pickle nests deeper than {MAX_DEPTH} levels");
        }
        Ok(())
    }

    fn set_items(&mut self, items: Vec<Value>) -> Result<()> {
        Self::check_nesting(&items)?;
        if !items.len().is_multiple_of(2) {
            bail!("pickle SETITEMS with an odd number of values");
        }
        match self.top()? {
            Value::Dict(dict) => {
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    dict.push((k, v));
                }
                Ok(())
            }
            _ => bail!("pickle SETITEMS without a dict"),
        }
    }

    fn append(&mut self, items: Vec<Value>) -> Result<()> {
        Self::check_nesting(&items)?;
        match self.top()? {
            Value::List(list) => {
                list.extend(items);
                Ok(())
            }
            _ => bail!("pickle APPENDS without a list"),
        }
    }

    /// REDUCE / NEWOBJ: `OrderedDict()` becomes a dict; other calls stay symbolic.
    fn call(&mut self, newobj: bool) -> Result<()> {
        let args = self.pop()?;
        let func = match self.pop()? {
            Value::Global(g) => g,
            other => bail!("pickle calls a non-global {other:?}"),
        };
        let args = args.items().map(<[Value]>::to_vec).unwrap_or_default();
        let v = match (newobj, func.as_str()) {
            (_, "collections.OrderedDict") if args.is_empty() => Value::Dict(Vec::new()),
            (true, _) => Value::Object { class: func, state: Box::new(Value::None) },
            (false, _) => Value::Call { func, args },
        };
        self.push(v)
    }

    fn build(&mut self) -> Result<()> {
        let state = self.pop()?;
        match self.top()? {
            Value::Object { state: s, .. } => **s = state,
            // An OrderedDict's attributes (a state dict's `_metadata`) carry no weights.
            Value::Dict(_) => {}
            _ => bail!("pickle BUILD without an object"),
        }
        Ok(())
    }
}

/// Unpickles `bytes`, refusing any global `policy` does not allow.
pub fn unpickle(bytes: &[u8], policy: &dyn Policy) -> Result<Value> {
    let mut r = Reader { bytes, pos: 0, stack: Vec::new(), memo: HashMap::new(), budget: 16 * bytes.len() + 1024 };
    loop {
        match r.take(1)?[0] {
            0x80 => {
                r.take(1)?; // PROTO
            }
            b'.' => return r.pop(),
            op => match r.literal(op)? {
                Some(v) => r.push(v)?,
                None => r.structure(op, policy)?,
            },
        }
    }
}

impl Reader<'_> {
    /// The value of a literal opcode (a constant, number or string); `None` for any other opcode.
    fn literal(&mut self, op: u8) -> Result<Option<Value>> {
        Ok(Some(match op {
            b')' => Value::Tuple(vec![]),
            b']' => Value::List(vec![]),
            b'}' => Value::Dict(vec![]),
            b'N' => Value::None,
            0x88 => Value::Bool(true),
            0x89 => Value::Bool(false),
            b'K' => Value::Int(self.take(1)?[0] as i64),
            b'M' => {
                let b = self.take(2)?;
                Value::Int(u16::from_le_bytes([b[0], b[1]]) as i64)
            }
            b'J' => Value::Int(self.u32_le()? as i32 as i64),
            0x8a => {
                // LONG1: little-endian two's complement of n bytes.
                let n = self.take(1)?[0] as usize;
                if n > 8 {
                    bail!("pickle integer of {n} bytes is too large");
                }
                let b = self.take(n)?;
                let mut v: i64 = 0;
                for (k, &byte) in b.iter().enumerate() {
                    v |= (byte as i64) << (8 * k);
                }
                if n > 0 && n < 8 && b[n - 1] & 0x80 != 0 {
                    v -= 1i64 << (8 * n);
                }
                Value::Int(v)
            }
            b'G' => Value::Float(f64::from_be_bytes(self.take(8)?.try_into().expect("8 bytes"))),
            b'X' => {
                let n = self.u32_le()? as usize;
                Value::Str(std::str::from_utf8(self.take(n)?).context("pickle string is not UTF-8")?.to_string())
            }
            _ => return Ok(None),
        }))
    }

    /// An opcode that builds, names, stores or recalls values.
    fn structure(&mut self, op: u8, policy: &dyn Policy) -> Result<()> {
        match op {
            b'(' => self.stack.push(Item::Mark),
            b'c' => {
                let (module, name) = (self.line()?, self.line()?);
                let global = format!("{module}.{name}");
                if !policy.allows(&global) {
                    bail!("the pickle names the global {global}, which a PyTorch checkpoint does not need: refused (nothing was run)");
                }
                self.push(Value::Global(global))?
            }
            b'q' | b'r' => {
                let key = if op == b'q' { self.take(1)?[0] as u32 } else { self.u32_le()? };
                self.memo_put(key)?
            }
            b'h' | b'j' => {
                let key = if op == b'h' { self.take(1)?[0] as u32 } else { self.u32_le()? };
                self.memo_get(key)?
            }
            b't' => {
                let items = self.pop_mark()?;
                self.push(Value::Tuple(items))?
            }
            0x85..=0x87 => {
                let mut items: Vec<Value> = (0..op - 0x84).map(|_| self.pop()).collect::<Result<_>>()?;
                items.reverse();
                self.push(Value::Tuple(items))?
            }
            b'a' => {
                let v = self.pop()?;
                self.append(vec![v])?
            }
            b'e' => {
                let items = self.pop_mark()?;
                self.append(items)?
            }
            b's' => {
                let v = self.pop()?;
                let k = self.pop()?;
                self.set_items(vec![k, v])?
            }
            b'u' => {
                let items = self.pop_mark()?;
                self.set_items(items)?
            }
            b'Q' => {
                let pid = self.pop()?;
                self.push(Value::Persistent(Box::new(pid)))?
            }
            b'R' => self.call(false)?,
            0x81 => self.call(true)?,
            b'b' => self.build()?,
            other => bail!("unsupported pickle opcode 0x{other:02x} at byte {}", self.pos - 1),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pickle::CheckpointGlobals;

    struct Any;
    impl Policy for Any {
        fn allows(&self, _: &str) -> bool {
            true
        }
    }

    #[test]
    fn reads_a_small_module_tree() {
        // GLOBAL m C; EMPTY_TUPLE; NEWOBJ; EMPTY_DICT; MARK 'a' K 7 'b' (MARK K1 K2 t) SETITEMS; BUILD; STOP
        let mut p = vec![0x80, 2];
        p.extend(b"cm\nC\n)\x81}(");
        p.push(b'X');
        p.extend(1u32.to_le_bytes());
        p.extend(b"aK\x07");
        p.push(b'X');
        p.extend(1u32.to_le_bytes());
        p.extend(b"b(K\x01K\x02tq\x00u");
        p.extend(b"b.");
        let v = unpickle(&p, &Any).unwrap();
        let Value::Object { class, state } = v else { panic!("{v:?}") };
        assert_eq!(class, "m.C");
        assert_eq!(
            *state,
            Value::Dict(vec![(Value::Str("a".into()), Value::Int(7)), (Value::Str("b".into()), Value::Tuple(vec![Value::Int(1), Value::Int(2)]))])
        );
        assert!(unpickle(&[0x80, 2, 0xff], &Any).unwrap_err().to_string().contains("0xff"));
    }

    #[test]
    fn refuses_globals_a_checkpoint_does_not_need() {
        // GLOBAL os system: the classic payload. It is refused by name before anything is built.
        let e = unpickle(b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.", &CheckpointGlobals).unwrap_err().to_string();
        assert!(e.contains("os.system") && e.contains("refused"), "{e}");
        assert!(unpickle(b"\x80\x02ccollections\nOrderedDict\n)R.", &CheckpointGlobals).unwrap() == Value::Dict(vec![]));
    }

    #[test]
    fn numbers_and_short_tuples() {
        // LONG1 of -2 (0xfe), BINFLOAT 0.5, TUPLE2, STOP.
        let v = unpickle(b"\x80\x02\x8a\x01\xfeG\x3f\xe0\x00\x00\x00\x00\x00\x00\x86.", &Any).unwrap();
        assert_eq!(v, Value::Tuple(vec![Value::Int(-2), Value::Float(0.5)]));
    }

    #[test]
    fn memo_bombs_and_deep_nesting_are_refused() {
        // A list put in the memo, then fetched and wrapped repeatedly: each copy doubles the tree.
        let mut p = b"\x80\x02]q\x00".to_vec();
        for _ in 0..40 {
            p.extend(b"h\x00h\x00\x86q\x00");
        }
        p.push(b'.');
        assert!(unpickle(&p, &Any).is_err());
        let mut deep = b"\x80\x02".to_vec();
        deep.extend(std::iter::repeat_n(b"]".iter().copied(), 100).flatten());
        deep.extend(std::iter::repeat_n(b"a".iter().copied(), 99).flatten());
        deep.push(b'.');
        assert!(unpickle(&deep, &Any).unwrap_err().to_string().contains("deeper"));
    }
}
