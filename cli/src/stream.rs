//! A stream of JSON values, each with the line it starts on: pretty-printed documents one after
//! another, concatenated values, or JSON lines alike.

use serde_json::Value;

/// One item of the stream: a value, or text that is not JSON.
#[derive(Debug)]
pub enum Item {
    Value {
        line: usize,
        value: Value,
    },
    /// Malformed input at `line`:`column`. Reading resumes at the next line that opens a value
    /// at its first column, so one bad line of a JSON-lines file costs one message, not the rest.
    Malformed {
        line: usize,
        column: usize,
        message: String,
    },
}

/// The values of `bytes`, in order.
pub fn values(bytes: &[u8]) -> Vec<Item> {
    let mut items = Vec::new();
    let mut pos = 0;
    let mut line = 1;
    loop {
        // Skip whitespace, counting lines.
        while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
            if bytes[pos] == b'\n' {
                line += 1;
            }
            pos += 1;
        }
        if pos >= bytes.len() {
            break;
        }
        let mut stream = serde_json::Deserializer::from_slice(&bytes[pos..]).into_iter::<Value>();
        match stream.next() {
            Some(Ok(value)) => {
                let end = pos + stream.byte_offset();
                items.push(Item::Value { line, value });
                line += bytes[pos..end].iter().filter(|b| **b == b'\n').count();
                pos = end;
            }
            Some(Err(e)) => {
                let (at_line, column) = (
                    line + e.line() - 1,
                    if e.line() == 1 { column_of(bytes, pos) + e.column() - 1 } else { e.column() },
                );
                items.push(Item::Malformed { line: at_line, column, message: strip_position(&e.to_string()) });
                // Resume at the next line starting with `{` or `[`, after the error's own line.
                let error_line_start = nth_line_start(bytes, pos, e.line() - 1);
                let mut next = error_line_start;
                let mut next_line = at_line;
                loop {
                    match bytes[next..].iter().position(|b| *b == b'\n') {
                        Some(i) => {
                            next += i + 1;
                            next_line += 1;
                            if matches!(bytes.get(next), Some(b'{' | b'[')) {
                                break;
                            }
                        }
                        None => {
                            next = bytes.len();
                            break;
                        }
                    }
                }
                pos = next;
                line = next_line;
            }
            None => break,
        }
    }
    items
}

/// 1-based column of byte `pos` on its line.
fn column_of(bytes: &[u8], pos: usize) -> usize {
    pos - bytes[..pos].iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) + 1
}

/// The start of the line `n` lines after the one holding `pos`.
fn nth_line_start(bytes: &[u8], pos: usize, n: usize) -> usize {
    let mut at = bytes[..pos].iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    for _ in 0..n {
        match bytes[at..].iter().position(|b| *b == b'\n') {
            Some(i) => at += i + 1,
            None => return bytes.len(),
        }
    }
    at
}

/// serde_json ends its messages with " at line L column C", relative to where it started.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                Item::Value { line, value } => format!("{line}:{value}"),
                Item::Malformed { line, column, .. } => format!("{line}:{column}:bad"),
            })
            .collect()
    }

    #[test]
    fn json_lines_pretty_and_concatenated_values_carry_their_first_line() {
        let text = "{\"a\":1}\n{\"b\":2}\n\n{\n  \"c\": [\n    3\n  ]\n}\n{\"d\":4}{\"e\":5}\n";
        assert_eq!(
            lines(&values(text.as_bytes())),
            ["1:{\"a\":1}", "2:{\"b\":2}", "4:{\"c\":[3]}", "9:{\"d\":4}", "9:{\"e\":5}"]
        );
    }

    #[test]
    fn a_malformed_line_costs_that_message_only() {
        let text = "{\"a\":1}\n{\"b\": nope}\n{\"c\":3}\n";
        assert_eq!(lines(&values(text.as_bytes())), ["1:{\"a\":1}", "2:8:bad", "3:{\"c\":3}"]);
    }

    #[test]
    fn a_truncated_document_is_reported_where_it_ends() {
        let text = "{\"a\":1}\n{\n  \"b\": [1,\n";
        let items = values(text.as_bytes());
        assert_eq!(items.len(), 2);
        assert!(matches!(items[1], Item::Malformed { line: 4, .. }), "{items:?}");
    }
}
