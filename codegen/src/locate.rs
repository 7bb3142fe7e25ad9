//! Finds the line and column of a JSON pointer in a file's text, so that errors point into the file.
//!
//! serde_json forgets positions once a document is parsed; this scanner walks the original text
//! instead. It only needs to be right on text serde_json has already accepted.

/// 1-based line and column of the value at `pointer`, or of its deepest existing ancestor.
///
/// ```
/// let text = "{\n  \"properties\": {\n    \"n\": { \"minimum\": \"ten\" }\n  }\n}";
/// assert_eq!(events_codegen::position_of(text, "/properties/n/minimum"), Some((3, 23)));
/// ```
pub fn position_of(source: &str, pointer: &str) -> Option<(usize, usize)> {
    let tokens: Vec<String> = match pointer {
        "" => Vec::new(),
        p => p.strip_prefix('/')?.split('/').map(crate::ident::unescape).collect(),
    };
    let mut scan = Scanner { bytes: source.as_bytes(), pos: 0 };
    scan.skip_ws();
    for token in &tokens {
        let found = match scan.peek()? {
            b'{' => scan.enter_member(token),
            b'[' => token.parse::<usize>().ok().is_some_and(|i| scan.enter_element(i)),
            _ => false,
        };
        if !found {
            break;
        }
    }
    Some(line_col(source, scan.pos))
}

fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.pos += 1;
        }
    }

    /// Moves onto the value of member `key` of the object at the cursor; stays put if absent.
    fn enter_member(&mut self, key: &str) -> bool {
        let start = self.pos;
        self.pos += 1; // '{'
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                break;
            }
            let key_start = self.pos;
            self.skip_string();
            let name: Option<String> = serde_json::from_slice(&self.bytes[key_start..self.pos]).ok();
            self.skip_ws();
            self.pos += 1; // ':'
            self.skip_ws();
            if name.as_deref() == Some(key) {
                return true;
            }
            self.skip_value();
            self.skip_ws();
            if self.peek() != Some(b',') {
                break;
            }
            self.pos += 1;
        }
        self.pos = start;
        false
    }

    /// Moves onto element `index` of the array at the cursor; stays put if absent.
    fn enter_element(&mut self, index: usize) -> bool {
        let start = self.pos;
        self.pos += 1; // '['
        for i in 0.. {
            self.skip_ws();
            if matches!(self.peek(), None | Some(b']')) {
                break;
            }
            if i == index {
                return true;
            }
            self.skip_value();
            self.skip_ws();
            if self.peek() != Some(b',') {
                break;
            }
            self.pos += 1;
        }
        self.pos = start;
        false
    }

    fn skip_string(&mut self) {
        self.pos += 1; // opening quote
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'\\' => self.pos += 1,
                b'"' => return,
                _ => {}
            }
        }
    }

    fn skip_value(&mut self) {
        match self.peek() {
            Some(b'"') => self.skip_string(),
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                while let Some(b) = self.peek() {
                    match b {
                        b'"' => {
                            self.skip_string();
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.pos += 1;
                                return;
                            }
                        }
                        _ => {}
                    }
                    self.pos += 1;
                }
            }
            _ => {
                while !matches!(self.peek(), None | Some(b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')) {
                    self.pos += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::position_of;

    const DOC: &str = "{\n  \"a\": {\"b~c/d\": [1, {\"x\": \"}\"}, 3]},\n  \"e\": 5\n}";

    #[test]
    fn finds_nested_members_and_elements() {
        assert_eq!(position_of(DOC, ""), Some((1, 1)));
        assert_eq!(position_of(DOC, "/a"), Some((2, 8)));
        assert_eq!(position_of(DOC, "/a/b~0c~1d/1/x"), Some((2, 28)));
        assert_eq!(position_of(DOC, "/a/b~0c~1d/2"), Some((2, 34)));
        assert_eq!(position_of(DOC, "/e"), Some((3, 8)));
    }

    #[test]
    fn missing_member_points_at_deepest_ancestor() {
        assert_eq!(position_of(DOC, "/a/nope/deeper"), Some((2, 8)));
        assert_eq!(position_of(DOC, "/a/b~0c~1d/9"), Some((2, 18)));
    }
}
