//! JSON serialization the way Meta sends webhooks: non-ASCII characters escaped as lowercase
//! `\uXXXX` (UTF-16 units). This makes the signed bytes differ from any re-serialization, so a
//! service that hashes anything but the raw body fails visibly in tests.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::Formatter;

/// Compact (the trait's defaults) except for string contents.
struct AsciiFormatter;

impl Formatter for AsciiFormatter {
    fn write_string_fragment<W>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()>
    where
        W: ?Sized + Write,
    {
        for c in fragment.chars() {
            if c.is_ascii() {
                writer.write_all(&[c as u8])?;
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }
}

/// Serializes `value` as compact JSON with non-ASCII escaped.
pub(crate) fn to_meta_json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, AsciiFormatter);
    value
        .serialize(&mut serializer)
        .expect("serializing wire types to memory cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_non_ascii_and_keeps_the_value() {
        let value = serde_json::json!({"body": "Olá 😀 \"q\"\n", "n": [1, 2]});
        let bytes = to_meta_json(&value);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(
            text,
            r#"{"body":"Ol\u00e1 \ud83d\ude00 \"q\"\n","n":[1,2]}"#
        );
        let back: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, value);
    }
}
