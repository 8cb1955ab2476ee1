//! The one JSON line each command prints at the end. Keys are fixed identifiers, so only string
//! values need escaping.

use std::fmt::Write;

pub struct JsonLine {
    text: String,
}

impl JsonLine {
    pub fn new() -> Self {
        Self {
            text: String::from("{"),
        }
    }

    fn key(&mut self, key: &str) {
        if self.text.len() > 1 {
            self.text.push(',');
        }
        let _ = write!(self.text, "\"{key}\":");
    }

    pub fn int(mut self, key: &str, value: u64) -> Self {
        self.key(key);
        let _ = write!(self.text, "{value}");
        self
    }

    /// A float with `decimals` places; non-finite values become null (JSON has no NaN).
    pub fn num(mut self, key: &str, value: f64, decimals: usize) -> Self {
        self.key(key);
        if value.is_finite() {
            let _ = write!(self.text, "{value:.decimals$}");
        } else {
            self.text.push_str("null");
        }
        self
    }

    pub fn opt_int(mut self, key: &str, value: Option<u64>) -> Self {
        self.key(key);
        match value {
            Some(v) => {
                let _ = write!(self.text, "{v}");
            }
            None => self.text.push_str("null"),
        }
        self
    }

    pub fn boolean(mut self, key: &str, value: bool) -> Self {
        self.key(key);
        self.text.push_str(if value { "true" } else { "false" });
        self
    }

    pub fn string(mut self, key: &str, value: &str) -> Self {
        self.key(key);
        self.text.push('"');
        for c in value.chars() {
            match c {
                '"' => self.text.push_str("\\\""),
                '\\' => self.text.push_str("\\\\"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(self.text, "\\u{:04x}", c as u32);
                }
                c => self.text.push(c),
            }
        }
        self.text.push('"');
        self
    }

    /// A value that is already JSON (a nested object from another JsonLine).
    pub fn raw(mut self, key: &str, json: &str) -> Self {
        self.key(key);
        self.text.push_str(json);
        self
    }

    pub fn finish(mut self) -> String {
        self.text.push('}');
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_one_object() {
        let line = JsonLine::new()
            .int("sent", 3)
            .num("pps", 1.23456, 2)
            .opt_int("firstSeq", None)
            .boolean("ok", true)
            .string("error", "a \"b\"\n")
            .num("bad", f64::NAN, 1)
            .finish();
        assert_eq!(
            line,
            r#"{"sent":3,"pps":1.23,"firstSeq":null,"ok":true,"error":"a \"b\"\u000a","bad":null}"#
        );
    }
}
