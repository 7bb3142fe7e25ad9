//! A string matching a regular expression of a schema's `pattern`, for the subset that schemas use
//! in practice: literals, escapes, classes, groups with alternatives, quantifiers and anchors. The
//! result is always checked against the expression itself; `None` when no match can be made.

/// A string of `pattern`, repeating each open-ended part `stretch` times where that is allowed,
/// with a length in `min..=max` code points.
pub fn sample(pattern: &str, stretch: usize, min: usize, max: usize) -> Option<String> {
    // Unicode mode, as ECMA-262 patterns in JSON Schema are read (`\p{L}` needs it).
    let regex = regress::Regex::with_flags(pattern, "u").or_else(|_| regress::Regex::new(pattern)).ok()?;
    let node = Parser { chars: pattern.chars().collect(), pos: 0 }.alternatives()?;
    // Several stretches, so that a length bound can be met by repeating more or less.
    for s in [stretch, 0, 1, 2, 4, 8, 16, 32] {
        for choice in 0..4 {
            let mut out = String::new();
            node.write(s, choice, &mut out);
            let len = out.chars().count();
            if (min..=max).contains(&len) && regex.find(&out).is_some() {
                return Some(out);
            }
        }
    }
    None
}

#[derive(Debug)]
enum Node {
    /// One of several sequences.
    Alt(Vec<Vec<Node>>),
    Char(char),
    /// A class: characters it allows (ranges by their first), or for a negated one, what it refuses.
    Class {
        allowed: Vec<char>,
        negated: bool,
    },
    Repeat {
        node: Box<Node>,
        min: usize,
        max: Option<usize>,
    },
    /// `^`, `$`, `\b`: match no character.
    Empty,
}

impl Node {
    /// `choice` picks among alternatives (`choice % n`), so that a failed pick can be retried.
    fn write(&self, stretch: usize, choice: usize, out: &mut String) {
        match self {
            Node::Alt(options) => {
                let pick = &options[choice % options.len()];
                pick.iter().for_each(|n| n.write(stretch, choice, out));
            }
            Node::Char(c) => out.push(*c),
            Node::Class { allowed, negated: false } => out.push(allowed.first().copied().unwrap_or('a')),
            Node::Class { allowed, negated: true } => {
                let c = ['a', 'x', 'A', '0', '_', '-', ' '].into_iter().find(|c| !allowed.contains(c)).unwrap_or('~');
                out.push(c)
            }
            Node::Repeat { node, min, max } => {
                let n = stretch.max(*min).min(max.unwrap_or(usize::MAX));
                (0..n).for_each(|_| node.write(stretch, choice, out));
            }
            Node::Empty => {}
        }
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn alternatives(&mut self) -> Option<Node> {
        let mut options = vec![self.sequence()?];
        while self.peek() == Some('|') {
            self.pos += 1;
            options.push(self.sequence()?);
        }
        Some(Node::Alt(options))
    }

    fn sequence(&mut self) -> Option<Vec<Node>> {
        let mut items = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom()?;
            items.push(self.quantified(atom)?);
        }
        Some(items)
    }

    fn atom(&mut self) -> Option<Node> {
        Some(match self.next()? {
            '^' | '$' => Node::Empty,
            '.' => Node::Char('a'),
            '(' => {
                if self.peek() == Some('?') {
                    self.pos += 1;
                    match self.next()? {
                        ':' => {}
                        // Lookarounds constrain without consuming: not generated.
                        '=' | '!' => return None,
                        '<' if matches!(self.peek(), Some('=' | '!')) => return None,
                        '<' => while self.next()? != '>' {},
                        _ => return None,
                    }
                }
                let inner = self.alternatives()?;
                (self.next()? == ')').then_some(())?;
                inner
            }
            '[' => self.class()?,
            '\\' => self.escape(false)?,
            c => Node::Char(c),
        })
    }

    fn quantified(&mut self, atom: Node) -> Option<Node> {
        let (min, max) = match self.peek() {
            Some('?') => (0, Some(1)),
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('{') => {
                let close = self.chars[self.pos..].iter().position(|c| *c == '}')? + self.pos;
                let body: String = self.chars[self.pos + 1..close].iter().collect();
                let (lo, hi) = match body.split_once(',') {
                    Some((lo, "")) => (lo.trim().parse().ok()?, None),
                    Some((lo, hi)) => (lo.trim().parse().ok()?, Some(hi.trim().parse().ok()?)),
                    None => {
                        let n = body.trim().parse().ok()?;
                        (n, Some(n))
                    }
                };
                self.pos = close;
                (lo, hi)
            }
            _ => return Some(atom),
        };
        self.pos += 1;
        // Lazy and possessive markers change nothing about what matches.
        if matches!(self.peek(), Some('?' | '+')) {
            self.pos += 1;
        }
        Some(Node::Repeat { node: Box::new(atom), min, max })
    }

    fn class(&mut self) -> Option<Node> {
        let negated = self.peek() == Some('^');
        if negated {
            self.pos += 1;
        }
        let mut allowed = Vec::new();
        let mut first = true;
        loop {
            let c = self.next()?;
            match c {
                ']' if !first => break,
                '\\' => match self.escape(true)? {
                    Node::Char(c) => allowed.push(c),
                    Node::Class { allowed: more, negated: false } => allowed.extend(more),
                    _ => allowed.push('a'),
                },
                c => {
                    if self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|n| *n != ']') {
                        self.pos += 1;
                        let end = self.next()?;
                        // A range stands for its ends; negated classes need every member, so list them.
                        if negated {
                            allowed.extend((c..=end).take(512));
                        } else {
                            allowed.push(c);
                        }
                    } else {
                        allowed.push(c);
                    }
                }
            }
            first = false;
        }
        Some(Node::Class { allowed, negated })
    }

    fn escape(&mut self, in_class: bool) -> Option<Node> {
        let c = self.next()?;
        Some(match c {
            'd' => Node::Class { allowed: ('0'..='9').collect(), negated: false },
            'w' => Node::Class { allowed: vec!['a', 'b', 'A', '0', '_'], negated: false },
            's' => Node::Class { allowed: vec![' '], negated: false },
            'D' | 'W' | 'S' => Node::Class { allowed: vec![if c == 'S' { 'a' } else { '-' }], negated: false },
            'b' | 'B' if !in_class => Node::Empty,
            'n' => Node::Char('\n'),
            't' => Node::Char('\t'),
            'p' | 'P' => {
                // `\p{L}` and friends: a letter stands for most of them.
                if self.peek() == Some('{') {
                    while self.next()? != '}' {}
                }
                Node::Char(if c == 'p' { 'a' } else { '0' })
            }
            'u' => {
                let hex: String = (0..4).filter_map(|_| self.next()).collect();
                Node::Char(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?)
            }
            'x' => {
                let hex: String = (0..2).filter_map(|_| self.next()).collect();
                Node::Char(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?)
            }
            c if c.is_ascii_digit() => return None, // back-references
            c => Node::Char(c),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::sample;

    #[test]
    fn common_patterns_get_a_matching_string() {
        for pattern in [
            "^[A-Z]{3}$",
            "^ORD[0-9]{5}$",
            "^(CUST|ACC)-\\d{4,6}$",
            "^[a-z]+(\\.[a-z]+)*$",
            "^\\+?[1-9]\\d{1,14}$",
            "^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$",
            "^(?:[a-z0-9-]+\\.)+[a-z]{2,}$",
            "v\\d+",
            "^\\p{L}+$",
        ] {
            let s = sample(pattern, 1, 0, usize::MAX).unwrap_or_else(|| panic!("no sample for {pattern}"));
            assert!(regress::Regex::with_flags(pattern, "u").unwrap().find(&s).is_some(), "{pattern}: {s}");
        }
    }

    #[test]
    fn length_bounds_are_met_by_stretching() {
        let s = sample("^[a-z]+$", 1, 5, 8).unwrap();
        assert!((5..=8).contains(&s.len()), "{s}");
        assert_eq!(sample("^[a-z]{10}$", 1, 0, 4), None);
    }

    #[test]
    fn lookarounds_and_back_references_are_declined() {
        assert_eq!(sample("^(?=.*\\d)[a-z\\d]{8}$", 1, 0, usize::MAX), None);
        assert_eq!(sample("^(a)\\1$", 1, 0, usize::MAX), None);
    }
}
