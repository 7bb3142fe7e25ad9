//! The JSON pointer of the value at a byte offset of compact JSON text: where a typed decode
//! failed, named without a second, path-tracking decoder (one more instantiation of every
//! payload type's serde code in the crate, for an error that only out-of-range numbers reach).

/// One level of nesting: an object with the key being read, or an array with the index.
enum Frame {
    Object(Option<String>),
    Array(usize),
}

/// The pointer, under `prefix`, of the innermost value that starts before `offset` in `text`.
pub(crate) fn at(text: &[u8], offset: usize, prefix: &str) -> String {
    let mut stack: Vec<Frame> = Vec::new();
    let mut last = String::new();
    let mut expect_key = false;
    let mut i = 0;
    let here = |stack: &[Frame]| {
        let mut p = String::new();
        for f in stack {
            match f {
                Frame::Object(Some(k)) => {
                    p.push('/');
                    p.push_str(&k.replace('~', "~0").replace('/', "~1"));
                }
                Frame::Object(None) => {}
                Frame::Array(n) => p.push_str(&format!("/{n}")),
            }
        }
        p
    };
    while i < text.len() && i < offset {
        match text[i] {
            b'{' => {
                last = here(&stack);
                stack.push(Frame::Object(None));
                expect_key = true;
                i += 1;
            }
            b'[' => {
                last = here(&stack);
                stack.push(Frame::Array(0));
                i += 1;
            }
            b'}' | b']' => {
                stack.pop();
                i += 1;
            }
            b',' => {
                match stack.last_mut() {
                    Some(Frame::Array(n)) => *n += 1,
                    Some(Frame::Object(_)) => expect_key = true,
                    None => {}
                }
                i += 1;
            }
            b'"' => {
                let end = string_end(text, i);
                if expect_key {
                    let key: String = serde_json::from_slice(&text[i..end]).unwrap_or_default();
                    if let Some(Frame::Object(k)) = stack.last_mut() {
                        *k = Some(key);
                    }
                    expect_key = false;
                } else {
                    last = here(&stack);
                }
                i = end;
            }
            b':' | b' ' | b'\n' | b'\r' | b'\t' => i += 1,
            _ => {
                last = here(&stack);
                while i < text.len() && !matches!(text[i], b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                    i += 1;
                }
            }
        }
    }
    format!("{prefix}{last}")
}

/// The offset just past the string starting at `start` (its opening quote).
fn string_end(text: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_the_innermost_value_before_the_offset() {
        let text = br#"{"a":{"b/c":[1,{"d~":99999999999999999999}]},"e":"x,y"}"#;
        let offset = text.windows(2).position(|w| w == b"}]").unwrap();
        assert_eq!(super::at(text, offset, "/payload"), "/payload/a/b~1c/1/d~0");
        let end = text.len() - 1;
        assert_eq!(super::at(text, end, ""), "/e");
        assert_eq!(super::at(b"[[],[7]]", 6, ""), "/1/0");
    }
}
